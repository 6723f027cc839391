"""Every shipped model in every tab of the Gradio app, in a real headless Chromium, as a person meets it.

The model is picked from the picker with the mouse, each tab is opened and its main action taken; no view may
answer with an error toast, and each shows the model's own picture. Screenshots of every tab land in
``$BROWSER_SHOTS`` (default: the test's tmp folder) for a person to look at.
"""

import contextlib
import os
import re
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from app_fixtures import SHIPPED
from test_browser import PAINTED_FACE, synthetic_face_file

pytestmark = pytest.mark.browser  # headless Chromium: make test-all, not the fast tier

pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "app.png"  # the README's picture of the app
SCREENSHOT_SIZE = (1280, 960)


@pytest.fixture(scope="module")
def opened(matrix_app):
    from app_fixtures import browser_page

    with browser_page(matrix_app[1]) as page:
        page.locator("#face img").first.wait_for(timeout=60_000)
        yield page


def no_error_toast(page) -> None:
    toasts = page.locator("[data-testid='toast-body']")
    assert toasts.count() == 0, toasts.all_inner_texts()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_tab_of_every_shipped_model_in_a_browser(opened, matrix_app, tmp_path, name):
    app, _ = matrix_app
    page, model = opened, app.explorer.model(name)
    shots = Path(os.environ.get("BROWSER_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.get_by_role("tab", name="Sliders").click()
    page.get_by_label("Model", exact=True).click()
    page.get_by_role("option", name=re.compile(f"^{re.escape(name)}( |$)")).click()
    page.wait_for_function("(name) => { const i = document.querySelector('#face img');"
                           " return i && i.dataset.model === name && i.complete && i.naturalWidth > 0; }",
                           arg=name, timeout=60_000)
    assert page.evaluate("() => document.querySelector('#face img').naturalWidth") == model.image_size
    assert page.wait_for_function(PAINTED_FACE, timeout=30_000).json_value()
    # 'Draw z from' follows the model too (its own event, after the face): offers its priors, its default chosen.
    page.wait_for_function("(prior) => { const c = document.querySelector('#prior-choice input:checked');"
                           " return c && c.value === prior; }", arg=app.explorer.default_prior(name), timeout=30_000)
    offered = page.locator("#prior-choice input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert sorted(offered) == sorted(app.explorer.priors(name))
    page.screenshot(path=str(shots / f"{name}-1-sliders.png"))

    page.get_by_role("tab", name="Traversal").click()
    page.get_by_role("button", name="Sweep every slider").click()
    page.wait_for_function("() => { const i = document.querySelector('#traversal img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    page.screenshot(path=str(shots / f"{name}-2-traversal.png"))

    page.get_by_role("tab", name="Reconstruct").click()
    page.locator("#upload input[type=file]").set_input_files(str(synthetic_face_file(tmp_path, 4)))
    page.wait_for_function("() => { const i = document.querySelector('#reconstruction img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    page.get_by_text("PSNR").first.wait_for(timeout=30_000)
    page.screenshot(path=str(shots / f"{name}-3-reconstruct.png"))

    page.get_by_role("tab", name="Interpolate").click()
    page.get_by_role("button", name=f"A ← current slider {model.subject}", exact=True).click()
    page.locator("#end-a img").first.wait_for(timeout=60_000)
    a_face = page.locator("#end-a img").first.get_attribute("src")
    page.get_by_role("tab", name="Sliders").click()
    before = page.locator("#face img").first.get_attribute("src")
    # The words name what the model draws: garments for the Fashion-MNIST models, faces for the anime ones.
    page.get_by_role("button", name=f"Another random {model.subject}", exact=True).click()
    page.wait_for_function("(old) => { const i = document.querySelector('#face img');"
                           " return i && i.getAttribute('src') !== old; }", arg=before, timeout=60_000)
    page.get_by_role("tab", name="Interpolate").click()
    page.get_by_role("button", name=f"B ← current slider {model.subject}", exact=True).click()
    page.locator("#end-b img").first.wait_for(timeout=60_000)
    assert page.locator("#end-b img").first.get_attribute("src") != a_face  # the two ends differ, as shown
    page.get_by_role("button", name="Interpolate", exact=True).click()
    page.wait_for_function("() => { const i = document.querySelector('#strip img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=60_000)
    # The frames are shown large enough to see, whatever the model's size (a 28 px garment's strip was 28 px high).
    shown = page.evaluate("() => { const i = document.querySelector('#strip img'), r = i.getBoundingClientRect();"
                          " return Math.min(r.height, r.width * i.naturalHeight / i.naturalWidth); }")
    assert shown >= 120, shown
    page.screenshot(path=str(shots / f"{name}-4-interpolate.png"))

    page.get_by_role("tab", name="Map").click()
    page.wait_for_function("(n) => { const m = document.querySelector('.latent-map');"
                           " return m && m.dataset.points === String(n); }", arg=len(model.atlas), timeout=60_000)
    page.screenshot(path=str(shots / f"{name}-5-map.png"))

    page.get_by_role("tab", name="Samples").click()
    page.locator("#samples img").nth(15).wait_for(timeout=60_000)
    for prior in app.explorer.priors(name):
        label = {"normal": "N(0, I)", "fitted": "fitted prior"}[prior]
        page.locator("#prior-choice").get_by_label(label).check()
        seed = page.get_by_label("Seed").input_value()  # the next seed since "Another random face"
        caption = f"seed {seed} · sample 2" + (" · fitted prior" if prior == "fitted" else "")
        page.locator("#samples").get_by_text(caption, exact=True).wait_for(timeout=60_000)
    page.screenshot(path=str(shots / f"{name}-6-samples.png"))

    page.get_by_role("tab", name="Share").click()
    page.get_by_role("button", name="Make a link to this face").click()
    page.wait_for_function("() => (document.querySelector('#share-link textarea') || {}).value?.includes('?state=')",
                           timeout=30_000)  # the link as visible text, with its copy button
    assert page.locator("#share-link button[aria-label*='opy'], #share-link button[title*='opy']").count() >= 1
    page.screenshot(path=str(shots / f"{name}-7-share.png"))
    no_error_toast(page)


def test_the_readme_screenshot_is_the_app_as_it_opens(opened):
    """The README shows the app as a newcomer meets it (``checkpoints/``, opened on the catalog's first model:
    its face and sliders), taken here. ``make screenshot`` (UPDATE_SCREENSHOT=1) rewrites the picture from this
    test; otherwise the committed one must be there, shown by the README, and of the size this test takes.
    The Sliders tab shows decodings only: no dataset image goes into the repository."""
    from app_fixtures import CHECKPOINTS, served

    width, height = SCREENSHOT_SIZE
    # A page of the module's browser (Playwright's sync API runs one per thread).
    with served(CHECKPOINTS) as (app, url), contextlib.closing(
            opened.context.browser.new_page(viewport={"width": width, "height": height})) as page:
        page.goto(url, wait_until="load")
        page.wait_for_function(PAINTED_FACE, timeout=60_000)
        opened_on = page.evaluate("() => document.querySelector('#face img').dataset.model")
        assert opened_on == app.explorer.model_choices()[0][1] == "vae-anime64-best"
        page.wait_for_timeout(500)  # the slider labels settle after the face
        shot = Image.open(BytesIO(page.screenshot()))
    assert shot.size == SCREENSHOT_SIZE
    if os.environ.get("UPDATE_SCREENSHOT"):
        # A palette PNG: every committed binary stays in git history, so keep it small.
        shot.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(SCREENSHOT, optimize=True)
    assert f"]({SCREENSHOT.relative_to(ROOT).as_posix()})" in (ROOT / "README.md").read_text()
    with Image.open(SCREENSHOT) as committed:
        assert committed.size == shot.size
