"""The app in a real headless Chromium (Debian's), driven by Playwright: what a person does with a mouse."""

import contextlib
import re
import shutil
from io import BytesIO

import pytest
from PIL import Image

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser  # headless Chromium: make test-all, not the fast tier
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(served_app):
    from app_fixtures import browser_page

    with browser_page(served_app[1]) as page:
        yield page


@contextlib.contextmanager
def window(page, url: str, width: int, height: int):
    """The page opened afresh in a window of this size (a phone: 390 × 844), its face shown; the module's
    usual size afterwards."""
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.goto(url, wait_until="load")
        page.locator("#face img").first.wait_for(timeout=30_000)
        yield page
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})


def open_from_tabs_menu(page, name: str) -> None:
    """A tab that a narrow window keeps behind the tab bar's ⋯ menu."""
    page.locator("span.overflow-menu button").first.click()
    page.locator(".overflow-dropdown button", has_text=name).first.click(timeout=5_000)  # fails if covered


def upload_face(page, path) -> None:
    """Open the Reconstruct tab on a freshly loaded page and upload ``path``."""
    page.reload(wait_until="load")
    page.locator("#face img").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Reconstruct").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))


def synthetic_face_file(folder, seed: int):
    """A synthetic face (drawn by code, not a dataset image) saved as a PNG to upload."""
    from trainer.data.synthetic import synthetic_faces

    _, image, _, _ = next(synthetic_faces(1, 64, seed=seed))
    path = folder / f"face-{seed}.png"
    image.save(path)
    return path


def face_src(page) -> str:
    return page.locator("#face img").first.get_attribute("src") or ""


# The face as painted: its pixels read back from a canvas, once the current src has loaded.
PAINTED_FACE = """() => { const img = document.querySelector('#face img');
  if (!img || !img.complete || !img.naturalWidth) return null;
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data).join(','); }"""


def test_dragging_a_slider_changes_the_face(page):
    page.locator("#face img").first.wait_for(timeout=30_000)
    before = face_src(page)
    painted = page.wait_for_function(PAINTED_FACE, timeout=30_000).json_value()
    assert page.locator("#face img").first.bounding_box()["width"] >= 300  # small faces shown large, pixelated
    slider = page.locator("#slider-0 input[type=range]").first
    box = slider.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):  # a real drag: many input events, the server keeps only the last
        page.mouse.move(box["x"] + box["width"] / 2 + step * box["width"] * 0.045, box["y"] + box["height"] / 2)
    page.mouse.up()
    page.wait_for_function("(old) => { const img = document.querySelector('#face img');"
                           " return img && img.src && img.src !== old; }", arg=before, timeout=30_000)
    assert float(slider.input_value()) > 1.0
    # However fast the drag, the face ends on the slider's final position (only the newest request waits).
    page.wait_for_function("""(value) => { const img = document.querySelector('#face img');
        const v = new URL(img.src).searchParams.get('v').split(',').map(Number);
        return img.complete && Math.abs(v[0] - value) < 1e-3; }""", arg=float(slider.input_value()), timeout=30_000)
    page.wait_for_function(f"() => {{ const p = ({PAINTED_FACE})(); return p && p !== {painted!r}; }}",
                           timeout=30_000)  # a new face was fetched and painted
    # The download link follows the painted face and saves it as a PNG file.
    link = page.locator("#face a.face-download").first
    page.wait_for_function("() => document.querySelector('#face a.face-download').href"
                           " === document.querySelector('#face img').src", timeout=30_000)
    with page.expect_download() as download:
        link.click()
    saved = download.value.path().read_bytes()
    assert download.value.suggested_filename.endswith("-face.png")
    shown = page.evaluate("() => { const img = document.querySelector('#face img');"
                          " return [img.naturalWidth, img.naturalHeight]; }")
    assert Image.open(BytesIO(saved)).format == "PNG" and list(Image.open(BytesIO(saved)).size) == shown


def test_uploading_a_face_shows_its_reconstruction(page, tmp_path):
    upload_face(page, synthetic_face_file(tmp_path, 5))
    page.locator("#reconstruction img").first.wait_for(timeout=30_000)
    page.get_by_text("PSNR").first.wait_for(timeout=30_000)


RENDERING = "(selector) => getComputedStyle(document.querySelector(selector)).imageRendering"
NATURAL_AND_SHOWN = """(selector) => { const img = document.querySelector(selector);
  return [img.naturalWidth, img.getBoundingClientRect().width]; }"""


def test_pictures_come_at_the_models_size_and_are_shown_large_sharp_or_smooth(page, tmp_path):
    upload_face(page, synthetic_face_file(tmp_path, 6))
    page.locator("#reconstruction img").first.wait_for(timeout=30_000)
    page.get_by_text("PSNR").first.wait_for(timeout=30_000)
    natural, shown = page.evaluate(NATURAL_AND_SHOWN, "#reconstruction img")
    assert natural == 16 and shown >= 200  # the tiny model's 16 px, enlarged by the page
    assert page.evaluate(RENDERING, "#reconstruction img") == "pixelated"
    page.get_by_label("smooth", exact=True).check()  # every picture follows at once, the slider face too
    page.wait_for_function(f"() => ({RENDERING})('#reconstruction img') === 'auto'", timeout=10_000)
    assert page.evaluate(RENDERING, "#face img.face") == "auto"
    page.screenshot(path=str(tmp_path / "smooth.png"))
    page.get_by_label("sharp", exact=True).check()
    page.wait_for_function(f"() => ({RENDERING})('#face img.face') === 'pixelated'", timeout=10_000)


def test_a_bad_upload_shows_a_message_in_the_page(page, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image at all")
    upload_face(page, path)
    page.get_by_text("not an image this app can read").first.wait_for(timeout=30_000)


POINT_ON_SCREEN = """(k) => {
  const d = document.querySelector('.latent-map');
  const trace = d.data.find(t => t.customdata && t.customdata.length > k) || d.data[0];
  const size = d._fullLayout._size, box = d.getBoundingClientRect();
  return {index: trace.customdata[k],
          x: box.left + size.l + d._fullLayout.xaxis.l2p(trace.x[k]),
          y: box.top + size.t + d._fullLayout.yaxis.l2p(trace.y[k])};
}"""


ISOLATED_POINT = """() => {
  // The point farthest from any other on screen, so that a click cannot land on a neighbour drawn above it.
  const d = document.querySelector('.latent-map');
  const size = d._fullLayout._size, box = d.getBoundingClientRect(), pts = [];
  d.data.forEach(t => (t.customdata || []).forEach((c, k) => pts.push({index: c,
    x: box.left + size.l + d._fullLayout.xaxis.l2p(t.x[k]), y: box.top + size.t + d._fullLayout.yaxis.l2p(t.y[k])})));
  let best = pts[0], bestGap = -1;
  for (const p of pts) {
    let gap = Infinity;
    for (const q of pts) if (q !== p) gap = Math.min(gap, Math.hypot(p.x - q.x, p.y - q.y));
    if (gap > bestGap) { bestGap = gap; best = p; }
  }
  return best;
}"""


def open_map(page):
    page.get_by_role("tab", name="Map").click()
    page.wait_for_selector(".latent-map[data-points]", timeout=30_000)
    view = page.locator(".latent-map")
    view.scroll_into_view_if_needed()  # every point on screen, for the mouse to reach
    return view


def test_the_map_draws_every_encoded_face_with_webgl(page):
    view = open_map(page)
    assert view.get_attribute("data-points") == "600"
    assert view.get_attribute("data-renderer") == "webgl"
    # Each cluster in its own colour, as drawn (Plotly's own cycle repeats after 10).
    drawn = page.evaluate("() => document.querySelector('.latent-map')._fullData.map(t => [t.name, t.marker.color])")
    assert len(drawn) > 10 and len({colour for _, colour in drawn}) == len(drawn)
    # The toolbar offers nothing that sends the chart to an outside service.
    page.locator(".latent-map .modebar-btn").first.wait_for(state="attached", timeout=30_000)
    titles = page.locator(".latent-map .modebar-btn").evaluate_all("bs => bs.map(b => b.dataset.title)")
    assert "Download plot as a PNG" in titles and not [t for t in titles if t.startswith("Share")]


def test_hovering_a_point_shows_its_decoded_face(page):
    open_map(page)
    point = page.evaluate(POINT_ON_SCREEN, 0)
    page.mouse.move(point["x"] - 40, point["y"] - 40)
    page.mouse.move(point["x"], point["y"], steps=5)
    tip = page.locator(".map-tip img").first
    tip.wait_for(state="visible", timeout=30_000)
    assert tip.get_attribute("src").startswith("data:image/png;base64,")
    assert "synthetic/" in page.locator(".map-tip").inner_text()
    # The app was given the local data (ANIME_EXPLORER_DATA): the original sits beside the decoding.
    original = page.locator(".map-tip img[alt='original image']")
    original.wait_for(state="visible", timeout=30_000)
    assert original.get_attribute("src").startswith("data:image/png;base64,")
    assert "decoded · original" in page.locator(".map-tip").inner_text()


def test_clicking_a_point_loads_its_latent(page):
    open_map(page)
    point = page.evaluate(ISOLATED_POINT)
    expected = f"synthetic/{point['index']:06d}"
    page.mouse.move(point["x"], point["y"], steps=3)
    # As a person does: hover until the tooltip shows the face, then click (Plotly clicks the hovered point).
    page.locator(".map-tip").get_by_text(expected).wait_for(timeout=30_000)
    page.mouse.click(point["x"], point["y"])
    page.locator("#map-info").get_by_text(expected).wait_for(timeout=30_000)


def draw_lasso(page, box: dict, fraction: float) -> None:
    """Drag a square lasso around the middle of ``box``, its half-side ``fraction`` of the box's height."""
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["height"] * fraction
    page.mouse.move(cx - r, cy - r)
    page.mouse.down()
    for x, y in ((cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r)):
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


def test_lasso_selection_fills_the_gallery(page):
    draw_lasso(page, open_map(page).bounding_box(), 1 / 5)
    page.locator("#map-info").get_by_text("faces selected").wait_for(timeout=30_000)
    assert page.locator("#selected img").count() > 0


def test_an_uploaded_face_is_placed_on_the_map(page, tmp_path):
    upload_face(page, synthetic_face_file(tmp_path, 21))
    page.get_by_text("PSNR").first.wait_for(timeout=30_000)
    open_map(page)
    page.wait_for_function("() => document.querySelector('.latent-map').data.some(t => t.name === 'your face')",
                           timeout=30_000)


def test_a_shared_link_restores_model_seed_and_sliders(page, served_app, tiny_models):
    from explorer.service import Explorer
    from explorer.share import PageState

    first_slider = Explorer(tiny_models).sliders("tiny-vae")[0].name
    _, url = served_app
    page.goto(url + "?" + PageState("tiny-vae", seed=11, temperature=0.9, sliders={first_slider: 2.0}).to_query(),
              wait_until="load")
    page.wait_for_function("() => { const s = document.querySelector('#slider-0 input[type=range]');"
                           " return s && Math.abs(parseFloat(s.value) - 2.0) < 1e-6; }", timeout=30_000)
    assert page.locator("input[type=number]").first.input_value() == "11"


def test_the_results_tab_shows_the_evaluation_table(page, tiny_models):
    import json

    evaluation = json.loads((tiny_models / "tiny-vae" / "metrics.json").read_text())["evaluation"]
    fid = evaluation["generation"]["fid"]
    page.get_by_role("tab", name="Results").click()
    table = page.locator("#results table").first
    table.wait_for(timeout=30_000)
    text = table.inner_text()
    assert "tiny-vae" in text and f"{fid:.1f}" in text and "seed 002 DCGAN" in text
    # Figures keep one line each (the app's CSS); the model name, the first column, may wrap.
    white_space = table.locator("tr").nth(1).locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c).whiteSpace)")
    assert white_space[0] != "nowrap" and set(white_space[1:-1]) == {"nowrap"}
    # The model picker carries its best figure (N(0, I) or fitted prior), so models compare before one is opened.
    best = min(evaluation[key]["fid"] for key in ("generation", "generation_fitted_prior") if key in evaluation)
    label = page.get_by_label("Model", exact=True).input_value()
    assert label.startswith("tiny-vae — VAE, 16×16 colour") and f" · FID {best:.1f}" in label


def test_on_a_phone_the_results_rows_stay_low(page, served_app):
    """The table scrolls sideways on a phone; its model and data columns were squeezed to a word a line there
    (a row of the shipped models' table stood about 500 px high)."""
    with window(page, served_app[1], 390, 844):
        open_from_tabs_menu(page, "Results")
        page.locator("#results table").first.wait_for(timeout=30_000)
        heights = page.locator("#results table tr").evaluate_all(
            "rows => rows.map(r => r.getBoundingClientRect().height)")
        assert len(heights) >= 4 and max(heights) < 120, heights


def test_the_traversal_tab_sweeps_every_slider(page):
    page.reload(wait_until="load")
    page.locator("#face img").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Traversal").click()
    page.get_by_role("button", name="Sweep every slider").click()
    figure = page.locator("#traversal img").first
    figure.wait_for(timeout=30_000)
    page.wait_for_function("() => { const i = document.querySelector('#traversal img'); "
                           "return i && i.complete && i.naturalWidth > 0; }", timeout=30_000)
    width, height = page.evaluate("() => { const i = document.querySelector('#traversal img'); "
                                  "return [i.naturalWidth, i.naturalHeight]; }")
    assert width > 7 * 64 and height > 8 * 64  # seven 64-px columns, a row per slider, labelled


def test_clicking_a_sample_makes_it_the_slider_face(page, served_app):
    app, url = served_app
    from explorer.share import latent_to_token

    page.goto(url, wait_until="load")  # seed 42 and temperature 1 (an earlier test may have opened a link)
    page.locator("#face img").first.wait_for(timeout=30_000)
    model = page.locator("#face img").first.get_attribute("data-model")
    page.get_by_role("tab", name="Samples").click()  # opening the tab draws them
    page.locator("#samples img").nth(15).wait_for(timeout=30_000)  # 16 faces by default
    page.locator("#samples img").nth(2).click()
    page.locator("#sample-info").get_by_text("Sample 3 is now the slider face").wait_for(timeout=30_000)
    expected = latent_to_token(app.explorer.samples(model, 42, 16, 1.0)[1][2])
    assert page.locator("#face img").first.get_attribute("data-base") == expected
    # The same from the VAE's fitted prior: the radio offers it for this model and redraws the samples at once.
    page.locator("#prior-choice").get_by_label("fitted prior").check()
    page.locator("#samples").get_by_text("seed 42 · sample 2 · fitted prior").wait_for(timeout=30_000)
    page.locator("#samples img").nth(1).click()
    page.locator("#sample-info").get_by_text("Sample 2 is now the slider face").wait_for(timeout=30_000)
    fitted = latent_to_token(app.explorer.samples(model, 42, 16, 1.0, "fitted")[1][1])
    assert page.locator("#face img").first.get_attribute("data-base") == fitted
    page.locator("#prior-choice").get_by_label("N(0, I)").check()
    page.locator("#samples").get_by_text("seed 42 · sample 2", exact=True).wait_for(timeout=30_000)
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Sample", exact=True).click()  # a new seed takes the button
    page.locator("#samples").get_by_text("seed 7 · sample 2", exact=True).wait_for(timeout=30_000)


def drag_slider(page, index: int, fraction: float) -> None:
    """A real mouse drag of slider ``index`` from its middle by ``fraction`` of its width."""
    slider = page.locator(f"#slider-{index} input[type=range]").first
    box = slider.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(box["x"] + box["width"] * (0.5 + fraction * step / 8), box["y"] + box["height"] / 2)
    page.mouse.up()


def painted_face(page, src: str | None = None) -> str:
    """The face's pixels once the image (of ``src``, if given) has loaded."""
    if src is not None:
        page.wait_for_function("(src) => { const i = document.querySelector('#face img');"
                               " return i && i.complete && i.getAttribute('src') === src; }", arg=src, timeout=30_000)
    return page.wait_for_function(PAINTED_FACE, timeout=30_000).json_value()


SLIDER_VALUES = "() => new URL(document.querySelector('#face img').src).searchParams.get('v')"


@pytest.mark.parametrize("control", ["Reset sliders", "the seed, typed"])
def test_the_face_matches_its_sliders_after_reset_and_a_new_seed(page, served_app, control):
    _, url = served_app
    page.goto(url, wait_until="load")
    page.locator("#face img").first.wait_for(timeout=30_000)
    start_src = face_src(page)
    start = painted_face(page, start_src)
    drag_slider(page, 0, 0.4)
    page.wait_for_function(f"() => ({SLIDER_VALUES})().split(',')[0] !== '0'", timeout=30_000)
    assert painted_face(page) != start
    if control == "Reset sliders":
        page.get_by_role("button", name=control).click()
    else:  # the same seed typed again: the face of that seed, its sliders at zero, at once
        page.get_by_label("Seed").fill("42")
        page.get_by_label("Seed").press("Enter")
    page.wait_for_function("() => parseFloat(document.querySelector('#slider-0 input[type=range]').value) === 0",
                           timeout=30_000)
    page.wait_for_function(f"() => ({SLIDER_VALUES})().split(',').every(v => v === '' || Number(v) === 0)",
                           timeout=30_000)  # the face asked for is the one the zeroed sliders make
    assert painted_face(page) == start


def test_another_random_face_draws_the_next_seed(page, served_app):
    _, url = served_app
    page.goto(url, wait_until="load")
    page.locator("#face img").first.wait_for(timeout=30_000)
    start_src = face_src(page)
    start = painted_face(page, start_src)
    page.get_by_role("button", name="Another random face").click()
    page.wait_for_function("() => document.querySelector('input[type=number]').value === '43'", timeout=30_000)
    page.wait_for_function("(old) => document.querySelector('#face img').getAttribute('src') !== old",
                           arg=start_src, timeout=30_000)
    assert painted_face(page, face_src(page)) != start


def test_a_model_switch_leaves_no_view_of_the_previous_model(page, served_app, tmp_path):
    from app_fixtures import GRAY

    _, url = served_app
    upload_face(page, synthetic_face_file(tmp_path, 8))
    page.locator("#reconstruction img").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Traversal").click()
    page.get_by_role("button", name="Sweep every slider").click()
    page.locator("#traversal img").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="Interpolate").click()
    page.get_by_role("button", name="A ← current slider face").click()
    page.get_by_role("button", name="B ← current slider face").click()
    for end in ("#end-a img", "#end-b img"):  # each end shows the face it stands for
        page.locator(end).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Interpolate", exact=True).click()
    page.locator("#strip img").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Samples").click()
    page.locator("#samples img").nth(15).wait_for(timeout=30_000)
    colour_samples = page.locator("#samples img").first.get_attribute("src")

    picker = page.get_by_label("Model", exact=True)
    picker.click()
    page.get_by_role("option", name=re.compile(f"^{GRAY}( |$)")).click()
    page.wait_for_function("(name) => document.querySelector('#face img').dataset.model === name", arg=GRAY,
                           timeout=30_000)
    # Samples are drawn again for the new model; every other view that showed the old model's results is empty.
    page.wait_for_function("(old) => { const i = document.querySelector('#samples img');"
                           " return i && i.getAttribute('src') !== old; }", arg=colour_samples, timeout=30_000)
    # (from its fitted prior: the grayscale stand-in has one, and a model's own prior is where samples start)
    page.locator("#samples").get_by_text(re.compile(r"^seed 42 · sample 1( · fitted prior)?$")).wait_for(timeout=30_000)
    for view in ("#reconstruction", "#traversal", "#strip", "#end-a", "#end-b"):
        page.wait_for_function("(id) => !document.querySelector(id + ' img')", arg=view, timeout=30_000)
    page.get_by_role("tab", name="Interpolate").click()
    page.get_by_role("button", name="Interpolate", exact=True).click()  # the old ends went with the old model
    page.get_by_text("set both ends first").first.wait_for(timeout=30_000)


def test_a_number_typed_beyond_the_span_shows_the_value_the_face_uses(page, served_app):
    page.goto(served_app[1], wait_until="load")
    page.locator("#face img").first.wait_for(timeout=30_000)
    box = page.locator("#slider-0 input[type=number]").first
    box.fill("10")
    page.wait_for_function("() => (new URL(document.querySelector('#face img').src).searchParams.get('v') || '')"
                           ".startsWith('3,')", timeout=30_000)
    assert float(box.input_value()) == 3.0
    assert float(page.locator("#slider-0 input[type=range]").first.input_value()) == 3.0


@pytest.mark.parametrize("width, height", [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_face_stays_in_sight_while_the_last_slider_moves(page, served_app, width, height, tmp_path):
    with window(page, served_app[1], width, height):
        last = page.locator("[id^='slider-']:visible").last
        last.scroll_into_view_if_needed()
        before = face_src(page)
        index = int(last.get_attribute("id").split("-")[1])
        drag_slider(page, index, 0.3)
        page.wait_for_function("(old) => document.querySelector('#face img').getAttribute('src') !== old",
                               arg=before, timeout=30_000)
        face = page.locator("#face img").first.bounding_box()
        slider = last.bounding_box()
        # The face is whole in the window while the last slider, far down the page, is dragged; nothing covers it.
        assert face["y"] >= 0 and face["y"] + face["height"] <= height, (face, height)
        assert slider["y"] >= face["y"] + face["height"] or slider["x"] >= face["x"] + face["width"]
        covered = page.evaluate("""() => { const c = document.querySelector('#face-column'), r = c.getBoundingClientRect();
          const hits = [];
          for (const fx of [0.1, 0.5, 0.9]) for (const fy of [0.1, 0.3, 0.5, 0.7, 0.9]) {
            const e = document.elementFromPoint(r.left + r.width * fx, r.top + r.height * fy);
            if (e && !c.contains(e)) hits.push(e.textContent.slice(0, 30)); }
          return hits; }""")
        assert not covered  # no slider scrolled under the face shows through it
        page.screenshot(path=str(tmp_path / f"sliders-{width}.png"))


def test_a_laptop_window_shows_the_whole_face_when_the_page_opens(page, served_app):
    """1280 × 900: the face is whole on the first screen (the model's figures, folded away now, pushed it below)."""
    with window(page, served_app[1], 1280, 900):
        page.get_by_text("tiny-vae", exact=True).first.wait_for(timeout=30_000)  # the model's line
        face = page.locator("#face img").first.bounding_box()
        assert face["height"] >= 256 and face["y"] + face["height"] <= 900, face
        page.get_by_text("This model's figures, and what they mean").click()  # the figures, a click away
        page.locator("#model-figures abbr", has_text="FID").first.wait_for(timeout=10_000)


def test_on_a_phone_every_tab_opens_from_the_tabs_menu(page, served_app):
    """A phone keeps the tabs that do not fit in a ⋯ menu; it opened under the sticky face, out of reach."""
    with window(page, served_app[1], 390, 844):
        hidden = page.locator(".overflow-dropdown button").all_inner_texts()
        assert "Map" in hidden and "Share" in hidden, hidden
        for name in hidden:
            open_from_tabs_menu(page, name)
            page.wait_for_function("(name) => [...document.querySelectorAll('[role=tab][aria-selected=true]')]"
                                   ".some(t => t.innerText.trim() === name)", arg=name, timeout=10_000)


def test_the_share_link_is_shown_as_text_and_its_copy_button_copies_it(page, served_app):
    _, url = served_app
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page.goto(url, wait_until="load")
    page.locator("#face img").first.wait_for(timeout=30_000)
    page.get_by_label("Seed").fill("13")
    page.get_by_label("Seed").press("Enter")
    page.wait_for_function("() => (document.querySelector('input[type=number]') || {}).value === '13'",
                           timeout=30_000)
    page.get_by_role("tab", name="Share").click()
    page.get_by_role("button", name="Make a link to this face").click()
    box = page.locator("#share-link textarea")
    page.wait_for_function("() => (document.querySelector('#share-link textarea') || {}).value?.includes('?state=')",
                           timeout=30_000)
    shown = box.input_value()
    assert shown.startswith(url)
    page.locator("#share-link button[aria-label*='opy'], #share-link button[title*='opy']").first.click()
    page.wait_for_function("(want) => navigator.clipboard.readText().then(t => t === want)", arg=shown, timeout=10_000)
    page.goto(shown, wait_until="load")  # the copied link reopens the face of seed 13
    page.wait_for_function("() => (document.querySelector('input[type=number]') || {}).value === '13'",
                           timeout=30_000)
