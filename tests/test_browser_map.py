"""The map in a real headless Chromium, as a person meets it: a model switch, the tools, the uploaded face's star."""

import re
from io import BytesIO

import pytest
from PIL import Image

from test_browser import (open_from_tabs_menu, open_map, page, synthetic_face_file, upload_face,  # noqa: F401 (page)
                          window)

pytestmark = pytest.mark.browser  # headless Chromium: make test-all, not the fast tier

# The screen position of the uploaded face's star.
STAR_ON_SCREEN = """() => {
  const d = document.querySelector('.latent-map');
  const star = d.data.find(t => t.name === 'your face');
  if (!star) return null;
  const size = d._fullLayout._size, box = d.getBoundingClientRect();
  return {x: box.left + size.l + d._fullLayout.xaxis.l2p(star.x[0]),
          y: box.top + size.t + d._fullLayout.yaxis.l2p(star.y[0]), type: star.type,
          centre: box.left + size.l + size.w / 2, width: size.w,
          last: d.data[d.data.length - 1] === star};
}"""
# Every state the map passes through, recorded from the moment it is installed.
RECORD_MAP_STATES = """() => {
  window.mapStates = [];
  const status = document.querySelector('.map-status'), map = document.querySelector('.latent-map');
  const note = () => window.mapStates.push({status: status.hidden ? '' : status.textContent,
                                             model: map.dataset.model, points: map.dataset.points || ''});
  new MutationObserver(note).observe(status, {attributes: true, childList: true, characterData: true, subtree: true});
  new MutationObserver(note).observe(map, {attributes: true, attributeFilter: ['data-model', 'data-points']});
}"""


def choose_model(page, name: str) -> None:
    page.get_by_label("Model", exact=True).click()
    page.get_by_role("option", name=re.compile(f"^{name}( |$)")).click()


def test_a_model_switch_clears_the_old_map_at_once_and_says_so(page, served_app):
    from app_fixtures import GRAY, TINY

    page.goto(served_app[1], wait_until="load")
    open_map(page)
    page.evaluate(RECORD_MAP_STATES)
    choose_model(page, GRAY)
    page.wait_for_function("(name) => { const m = document.querySelector('.latent-map');"
                           " return m.dataset.model === name && m.dataset.points; }", arg=GRAY, timeout=30_000)
    states = page.evaluate("() => window.mapStates")
    drawing = [s for s in states if s["status"]]
    # Before the new map came, the old points were gone (no click could land on them) and the map said why.
    assert drawing and drawing[0]["status"] == f"Drawing the map of {GRAY}…" and not drawing[0]["points"]
    assert page.locator(".map-status").is_hidden()
    choose_model(page, TINY[0])
    page.wait_for_function("(name) => { const m = document.querySelector('.latent-map');"
                           " return m.dataset.model === name && m.dataset.points; }", arg=TINY[0], timeout=30_000)


def test_box_select_stays_chosen_after_a_new_colouring(page, served_app):
    page.goto(served_app[1], wait_until="load")
    view = open_map(page)
    view.hover()
    page.locator(".latent-map .modebar-btn[data-title='Box Select']").click()
    page.get_by_label("Colour by").click()
    page.get_by_role("option", name="split", exact=True).click()
    page.wait_for_function("() => (document.querySelector('.latent-map').data || []).some(t => t.name === 'test')",
                           timeout=30_000)
    assert page.evaluate("() => document.querySelector('.latent-map')._fullLayout.dragmode") == "select"
    box = view.bounding_box()  # a box drag over the middle of the map selects faces
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7, steps=8)
    page.mouse.up()
    page.locator("#map-info").get_by_text("faces selected").wait_for(timeout=30_000)
    assert page.locator("#selected img").count() > 0


def test_the_legend_leaves_the_toolbar_free(page, served_app):
    page.goto(served_app[1], wait_until="load")
    open_map(page).hover()
    toolbar = page.locator(".latent-map .modebar").bounding_box()
    legend = page.locator(".latent-map .legend").bounding_box()
    assert toolbar and legend
    assert toolbar["y"] + toolbar["height"] <= legend["y"] or legend["x"] + legend["width"] <= toolbar["x"]


def test_on_a_phone_the_legend_goes_under_the_map(page, served_app):
    """Beside the map at 390 px, the legend took a third of the width from the points."""
    with window(page, served_app[1], 390, 844):
        open_from_tabs_menu(page, "Map")
        page.wait_for_function("() => (document.querySelector('.latent-map') || {}).dataset?.points", timeout=30_000)
        plot = page.evaluate("() => { const d = document.querySelector('.latent-map'), s = d._fullLayout._size,"
                             " b = d.getBoundingClientRect(); return {width: s.w, bottom: b.top + s.t + s.h}; }")
        legend = page.locator(".latent-map .legend").bounding_box()
        assert plot["width"] >= 250, plot  # the points have the width of the page (184 px beside the legend)
        assert legend["y"] >= plot["bottom"] - 1, (legend, plot)  # and the legend is beneath them


def test_the_uploaded_face_is_drawn_on_top_and_can_be_found(page, served_app, tmp_path):
    upload_face(page, synthetic_face_file(tmp_path, 21))
    page.get_by_text("PSNR").first.wait_for(timeout=30_000)
    view = open_map(page)
    page.wait_for_function("() => (document.querySelector('.latent-map').data || []).some(t => t.name === 'your face')",
                           timeout=30_000)
    page.wait_for_timeout(500)  # the WebGL frame after the draw
    star = page.evaluate(STAR_ON_SCREEN)
    assert star["last"] and star["type"] == view.evaluate("d => d.data[0].type")
    # The star's centre as painted is its own black: no point (each drawn 75 % opaque) covers it.
    shot = Image.open(BytesIO(page.screenshot())).convert("RGB")
    scale = shot.width / page.viewport_size["width"]
    centre = shot.getpixel((round(star["x"] * scale), round(star["y"] * scale)))
    assert max(centre) <= 16, centre
    page.locator(".latent-map .annotation-text").get_by_text("your face").wait_for(timeout=10_000)  # its label
    # "Show my face" centres the map on it, closer in.
    full = view.evaluate("d => d._fullLayout.xaxis.range.slice()")
    page.get_by_role("button", name="Show my face").click()
    page.wait_for_function("(w) => { const r = document.querySelector('.latent-map')._fullLayout.xaxis.range;"
                           " return r[1] - r[0] < w / 3; }", arg=full[1] - full[0], timeout=10_000)
    star = page.evaluate(STAR_ON_SCREEN)
    assert abs(star["x"] - star["centre"]) < star["width"] * 0.1
