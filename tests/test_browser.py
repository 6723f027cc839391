"""The app in a real headless Chromium (Debian's), driven by Playwright: what a person does with a mouse."""

import shutil

import pytest

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(served_app):
    _, url = served_app
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="load")
        yield page
        browser.close()


def face_src(page) -> str:
    return page.locator("#face img").first.get_attribute("src") or ""


def test_dragging_a_slider_changes_the_face(page):
    page.locator("#face img").first.wait_for(timeout=30_000)
    before = face_src(page)
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


def test_uploading_a_face_shows_its_reconstruction(page, tmp_path):
    from trainer.data.synthetic import synthetic_faces

    _, image, _, _ = next(synthetic_faces(1, 64, seed=5))
    path = tmp_path / "upload.png"
    image.save(path)
    page.get_by_role("tab", name="Reconstruct").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#reconstruction img").first.wait_for(timeout=30_000)
    page.get_by_text("PSNR").first.wait_for(timeout=30_000)


def test_a_bad_upload_shows_a_message_in_the_page(page, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image at all")
    page.get_by_role("tab", name="Reconstruct").click()
    upload = page.locator("#upload")
    if upload.locator("button[aria-label='Clear']").count():
        upload.locator("button[aria-label='Clear']").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.get_by_text("not an image this app can read").first.wait_for(timeout=30_000)
