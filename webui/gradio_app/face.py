"""The slider face for the Gradio app: an <img> the browser repaints straight from a plain HTTP route.

A slider drag is the app's hottest path. Through a Gradio event it costs an event round trip, a file written
to Gradio's cache and a second request for that file (≈ 100 ms in a browser on 2 cores, 7 ms of it the model);
here the page's own script turns each slider ``input`` into ``GET face.png?model=…&base=…&v=…`` and the
browser shows the answer. The request carries the whole state (model, base latent, slider offsets), so the
route is stateless and the same for every user; Python handlers that change the base (random face,
upload, map click, model switch) return new HTML with the new base.
"""

from __future__ import annotations

import html
import itertools
from typing import Callable
from urllib.parse import urlencode

import gradio as gr
import numpy as np
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from explorer.errors import CheckpointError, ExplorerInputError, report_internal
from explorer.render import png_bytes
from explorer.share import latent_from_token, latent_to_token, offsets_from_text

RENDERS = itertools.count()  # see face_html
ROUTE = "face.png"  # relative in the page: works at any root path (Spaces, proxies)
CSS = """
img.face { width: 384px; max-width: 100%; aspect-ratio: 1; height: auto; image-rendering: pixelated; display: block;
           margin: 0 auto; border-radius: 8px; background: #eee; }
a.face-download { display: block; text-align: center; margin-top: 6px; font-size: 0.9em; }
"""
# Runs once when the widget mounts. Listens on the whole page (the sliders are other components); reads every
# slider, the one being dragged from the event itself (its twin number box may not have caught up yet).
JS = """
const COUNT = %(count)d;
function sliderValue(i, event) {
  const box = document.getElementById('slider-' + i);
  if (!box) return 0;
  const source = event && box.contains(event.target) ? event.target : box.querySelector('input[type=range]');
  const v = Number(source ? source.value : 0);
  return Number.isFinite(v) ? Math.max(-3, Math.min(3, v)) : 0;
}
// One request in flight per image; while it runs, only the newest position waits (Gradio's "always_last").
let inFlight = null, queued = null;
function show(img, url) {
  if (inFlight === img) { queued = url; return; }
  inFlight = img;
  const done = event => {
    // The download link follows the face as painted (a failed request keeps the last good one).
    const link = element.querySelector('a.face-download');
    if (link && event.type === 'load') link.href = img.src;
    if (inFlight === img) inFlight = null;
    if (queued !== null) { const next = queued; queued = null; show(img, next); }
  };
  img.addEventListener('load', done, {once: true});
  img.addEventListener('error', done, {once: true});
  img.src = url;
}
document.addEventListener('input', event => {
  const target = event.target;
  if (!target || !target.closest || !target.closest('[id^="slider-"]')) return;
  if (target.type === 'number' && target.value !== '') {
    // A number typed beyond the slider's span is shown as the value the face uses, not as typed.
    const typed = Number(target.value), kept = Math.max(-3, Math.min(3, typed));
    if (Number.isFinite(typed) && kept !== typed) {
      target.value = String(kept);
      target.dispatchEvent(new Event('input', {bubbles: true}));
      return;
    }
  }
  const img = element.querySelector('img.face');
  if (!img || !img.dataset.base) return;
  const values = Array.from({length: COUNT}, (_, i) => sliderValue(i, event));
  show(img, '%(route)s?' + new URLSearchParams({model: img.dataset.model, base: img.dataset.base,
                                                 v: values.map(v => +v.toFixed(3)).join(',')}));
});
"""


def face_src(model: str, base: np.ndarray | str, offsets: list[float] | tuple = ()) -> str:
    """``base``: the latent, or its token when the caller already has it."""
    token = base if isinstance(base, str) else latent_to_token(base)
    values = ",".join(f"{float(v):g}" for v in offsets)
    return f"{ROUTE}?" + urlencode({"model": model, "base": token, "v": values})


def face_html(model: str, base: np.ndarray, offsets: list[float] | tuple = ()) -> str:
    """What the face widget shows: the face of ``base`` moved by ``offsets``, with the base for the script.

    Each answer is new HTML (``data-render``): a drag repaints the <img> in the page, not Gradio's value, so
    Reset or Random base with an unchanged base would return the value Gradio already holds, and the page would
    keep the dragged face under zeroed sliders."""
    token = latent_to_token(base)
    src = html.escape(face_src(model, token, offsets))
    return (f'<img class="face" alt="face" src="{src}" data-model="{html.escape(model)}" data-base="{token}" '
            f'data-render="{next(RENDERS)}">'
            f'<a class="face-download" href="{src}" download="{html.escape(model)}-face.png">Download PNG</a>')


def face_widget(count: int) -> gr.HTML:
    return gr.HTML(value="", js_on_load=JS % {"count": count, "route": ROUTE}, css_template=CSS, elem_id="face",
                   label="Face", show_label=True, container=True)


def face_route(render: Callable[[str, np.ndarray, list[float]], np.ndarray], latent_dim: Callable[[str], int],
               count: int) -> Route:
    """``GET face.png?model=NAME&base=TOKEN&v=o1,o2,…`` → the PNG; a bad request gets a one-line 400/404."""

    def endpoint(request: Request) -> Response:  # sync: Starlette runs it in its thread pool
        query = request.query_params
        name = query.get("model", "")
        try:
            base = latent_from_token(query.get("base", ""), latent_dim(name))
            face = render(name, base, offsets_from_text(query.get("v", ""), count))
        except CheckpointError as error:
            return PlainTextResponse(str(error), status_code=404)
        except ExplorerInputError as error:
            return PlainTextResponse(str(error), status_code=400)
        except Exception as error:  # a bug of ours, not the request's: logged, and said so
            return PlainTextResponse(report_internal(error, "face route"), status_code=500)
        # no-store: the same URL may name other weights after a model is retrained and the app restarted.
        return Response(png_bytes(face), media_type="image/png", headers={"Cache-Control": "no-store"})

    return Route(f"/{ROUTE}", endpoint, methods=["GET"])
