"""The Streamlit app served for real (`streamlit run`) in headless Chromium: it loads, a slider drag
changes the face, a lasso on the map shows the selected faces, one of which loads into the sliders, and the
results table shows every model at once."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")
from app_fixtures import free_port  # noqa: E402
from test_browser import ARGS, CHROMIUM, draw_lasso  # noqa: E402

pytestmark = pytest.mark.browser  # headless Chromium: make test-all, not the fast tier

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def served(checkpoints: Path):
    """`streamlit run` over a checkpoints folder: its URL once the server answers."""
    port = free_port()
    env = {**os.environ, "ANIME_EXPLORER_CHECKPOINTS": str(checkpoints)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "webui/streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def opened(url: str):
    """The Streamlit app in headless Chromium, its slider face drawn."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="load")
        slider_face(page).wait_for(timeout=60_000)
        yield page
        browser.close()


@pytest.fixture(scope="module")
def streamlit_url(tiny_models):
    with served(tiny_models) as url:
        yield url


@pytest.fixture
def page(streamlit_url):
    with opened(streamlit_url) as page:
        yield page


def slider_face(page):
    return page.locator("[data-testid='stImage']", has_text="sliders make").locator("img")


def wait_for_a_new_slider_face(page, before: str) -> None:
    page.wait_for_function(
        "(old) => { const box = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
        ".find(e => e.innerText.includes('sliders make')); const img = box && box.querySelector('img');"
        " return img && img.src !== old; }", arg=before, timeout=60_000)


def test_streamlit_page_loads_and_a_slider_drag_changes_the_face(page):
    before = slider_face(page).get_attribute("src")
    # [0] is the temperature slider; [1] the first latent direction, its thumb in the middle (value 0).
    track = page.locator("[data-testid='stSlider'] [role='group'] > div").nth(1)
    box = track.bounding_box()
    middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(middle_x, middle_y)
    page.mouse.down()
    page.mouse.move(middle_x + box["width"] * 0.3, middle_y, steps=10)
    page.mouse.up()
    wait_for_a_new_slider_face(page, before)
    assert float(page.locator("[data-testid='stSlider'] input[type=range]").nth(1).input_value()) > 0.5


def open_map(page):
    page.get_by_role("tab", name="Map").click()
    chart = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
    chart.wait_for(timeout=60_000)
    chart.scroll_into_view_if_needed()
    page.wait_for_function("() => { const d = document.querySelector('.js-plotly-plot'); return d && d._fullLayout; }",
                           timeout=60_000)
    return chart


def test_a_lasso_on_the_map_shows_the_faces_and_loads_one_into_the_sliders(page):
    before = slider_face(page).get_attribute("src")
    chart = open_map(page)
    chart.hover()
    page.locator(".modebar-btn[data-title='Lasso Select']").click()  # as a person picks the tool
    draw_lasso(page, chart.bounding_box(), 1 / 4)
    page.get_by_text("selected", exact=False).first.wait_for(timeout=60_000)
    gallery = page.locator("[data-testid='stImage']", has_text="synthetic/")
    gallery.first.wait_for(timeout=60_000)
    # The rerun that showed the selection redrew the map: the tool the user chose is still the one in use.
    assert page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.dragmode") == "lasso"
    first_label = gallery.first.inner_text().split()[0]  # captions in selection order
    page.get_by_role("button", name="Load the first selected face into the sliders").click()
    page.get_by_text(f"Loaded {first_label}").wait_for(timeout=60_000)
    wait_for_a_new_slider_face(page, before)


def test_clicking_one_point_on_the_map_shows_its_face(page):
    from test_browser import ISOLATED_POINT

    open_map(page)
    point = page.evaluate(ISOLATED_POINT.replace(".latent-map", ".js-plotly-plot"))
    page.mouse.move(point["x"], point["y"], steps=3)
    page.get_by_text("click to see this face").first.wait_for(timeout=30_000)  # the hover says what a click does
    page.mouse.click(point["x"], point["y"])
    page.get_by_text("1 selected").wait_for(timeout=60_000)
    # Its decoding (and, the app being given the local data, its original beside it).
    page.locator("[data-testid='stImage']", has_text=f"synthetic/{point['index']:06d}").first.wait_for(timeout=60_000)


def test_the_results_table_shows_every_row_without_scrolling_inside_it(tiny_models, tmp_path):
    # More rows than st.dataframe's default ten, so a table of the default height would hide the last ones
    # (seed 002's reference rows) behind a scroll bar inside it.
    for i in range(12):
        shutil.copytree(tiny_models / "tiny-vae", tmp_path / f"tiny-vae-{i:02d}")
    from explorer.service import Explorer
    from webui.wording import results_records

    rows = len(results_records(Explorer(tmp_path).results()))
    assert rows > 14
    with served(tmp_path) as url, opened(url) as page:
        page.get_by_role("tab", name="Models").click()
        page.get_by_text("Results of every model").click()
        table = page.locator("[data-testid='stDataFrame']", has_text="rFID")
        table.locator("[role='row']", has_text="tiny-vae-00").first.wait_for(state="attached", timeout=60_000)
        # The grid draws on a canvas and keeps an accessible row only for each row it has room to show.
        assert table.locator("[role='row']").count() == rows + 1  # and the header
        assert table.locator("[role='row']", has_text="seed 002 VAE (reference)").count() == 1


@pytest.mark.parametrize("width", [1400, 390], ids=["desktop", "phone"])
def test_the_face_stays_in_sight_while_the_first_and_last_sliders_move(streamlit_url, width):
    with opened(streamlit_url) as page:
        page.set_viewport_size({"width": width, "height": 844})
        directions = page.locator("[data-testid='stSlider']:visible")
        for which in (1, -1):  # [0] is the temperature; then the first and the last latent direction
            track = (directions.nth(which) if which > 0 else directions.last).locator("[role='group'] > div").first
            track.scroll_into_view_if_needed()
            before = slider_face(page).get_attribute("src")
            box = track.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=10)
            page.mouse.up()
            wait_for_a_new_slider_face(page, before)
            face = slider_face(page).bounding_box()
            assert face["y"] >= 0 and face["y"] + face["height"] <= 844, (which, face)
            covered = page.evaluate(COVERED)
            assert not covered, which
        # The buttons under the face show their whole words (on desktop "Another random face" was cut to "…").
        assert page.locator(".st-key-slider-face .stButton button").count() == 2
        assert not page.evaluate(CUT_BUTTONS)


CUT_BUTTONS = """() => [...document.querySelectorAll('.st-key-slider-face .stButton button')]
  .filter(b => [b, ...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)).map(b => b.innerText)"""


# Points of the slider face where something else is drawn on top (Streamlit's own image toolbar aside).
COVERED = """() => { const img = [...document.querySelectorAll('[data-testid="stImage"]')]
    .find(e => e.innerText.includes('sliders make')).querySelector('img'), r = img.getBoundingClientRect();
  const hits = [];
  for (const fx of [0.1, 0.5, 0.9]) for (const fy of [0.1, 0.5, 0.9]) {
    const e = document.elementFromPoint(r.left + r.width * fx, r.top + r.height * fy);
    if (e !== img && !(e && e.closest('[data-testid="stElementToolbar"]'))) {
      hits.push(e ? e.tagName + ' ' + (e.closest('[data-testid]') || e).dataset.testid + ' ' + fx + ',' + fy : '-');
    } }
  return hits; }"""


def test_faces_are_shown_large_sharp_or_smooth(page, tmp_path):
    """Pictures come at the model's own size; the page enlarges them, as its pixels or smooth as picked."""
    face = slider_face(page)
    natural, shown = face.evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
    assert natural == 16 and shown >= 250, (natural, shown)
    rendering = "img => getComputedStyle(img).imageRendering"
    assert face.evaluate(rendering) == "pixelated"
    page.get_by_text("smooth", exact=True).click()
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                           ".some(img => getComputedStyle(img).imageRendering === 'auto')", timeout=30_000)
    page.screenshot(path=str(tmp_path / "smooth.png"))
    assert slider_face(page).evaluate(rendering) == "auto"
