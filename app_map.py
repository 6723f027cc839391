"""The interactive latent map for the Gradio app: a gr.HTML widget drawing Plotly.js (served from the installed
``plotly`` package, no CDN) with WebGL, sending clicks and box/lasso selections back as ``select`` events and
asking the server for the face under the cursor on hover."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Callable

import gradio as gr
import plotly

from explorer.errors import ExplorerInputError, report_internal
from explorer.render import png_bytes
from explorer.service import Explorer

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
gr.set_static_paths([str(PLOTLY_JS.parent)])

TEMPLATE = "<div class='map-wrap'><div class='latent-map'></div><div class='map-tip'></div></div>"
CSS = """
.map-wrap { position: relative; }
.latent-map { width: 100%; height: 560px; }
.map-tip { position: absolute; display: none; pointer-events: none; background: #fff; border: 1px solid #ccc;
           border-radius: 6px; padding: 4px; font-size: 12px; max-width: 280px; z-index: 10;
           box-shadow: 0 2px 8px rgba(0,0,0,.2); }
.map-tip img { width: 128px; height: 128px; image-rendering: pixelated; display: inline-block; vertical-align: top; }
.map-tip img + img { margin-left: 4px; }
"""
# Runs once when the widget mounts; `watch` redraws whenever Python sends a new payload (another map,
# colouring, model, or an uploaded face to mark). Hover asks the server for the decoded face of the point.
JS = """
let hoverSeq = 0;
function webgl() {
  try { const c = document.createElement('canvas'); return !!(c.getContext('webgl2') || c.getContext('webgl')); }
  catch (e) { return false; }
}
function draw() {
  const v = props.value;
  const div = element.querySelector('.latent-map');
  const tip = element.querySelector('.map-tip');
  if (!div || !v || !v.x || typeof Plotly === 'undefined') return;
  const useGL = webgl();
  const buckets = v.categories.map(() => []);
  for (let i = 0; i < v.codes.length; i++) buckets[v.codes[i]].push(i);
  const traces = buckets.map((idx, k) => ({
    type: useGL ? 'scattergl' : 'scatter', mode: 'markers', name: v.categories[k],
    x: idx.map(i => v.x[i]), y: idx.map(i => v.y[i]), customdata: idx, hoverinfo: 'none',
    marker: {size: v.count > 20000 ? 3 : 6, opacity: 0.75, color: v.colours ? v.colours[k] : undefined}
  }));
  if (v.highlight) {
    traces.push({type: 'scatter', mode: 'markers+text', name: 'your face', x: [v.highlight.x], y: [v.highlight.y],
                 text: ['your face'], textposition: 'top center', hoverinfo: 'skip',
                 marker: {symbol: 'star', size: 20, color: '#111', line: {color: '#fff', width: 2}}});
  }
  const layout = {dragmode: 'lasso', hovermode: 'closest', height: 560, margin: {l: 8, r: 8, t: 8, b: 8},
                  xaxis: {visible: false}, yaxis: {visible: false}, legend: {itemsizing: 'constant'}};
  // Nothing leaves the app: no "Share chart…" to Plotly's cloud.
  Plotly.react(div, traces, layout, {displaylogo: false, responsive: true, showSendToCloud: false,
                                    modeBarButtonsToRemove: ['sendChartToCloud']}).then(() => {
    div.dataset.points = String(v.count);
    div.dataset.renderer = useGL ? 'webgl' : 'svg';
  });
  if (div.removeAllListeners) {
    ['plotly_hover', 'plotly_unhover', 'plotly_click', 'plotly_selected'].forEach(e => div.removeAllListeners(e));
  }
  div.on('plotly_hover', ev => {
    const p = ev.points[0];
    if (p.customdata === undefined) return;
    const seq = ++hoverSeq;
    const box = element.getBoundingClientRect();
    tip.style.left = (ev.event.clientX - box.left + 14) + 'px';
    tip.style.top = (ev.event.clientY - box.top + 14) + 'px';
    server.point_face({model: v.model, index: p.customdata}).then(r => {
      if (seq !== hoverSeq) return;
      tip.innerHTML = '<img alt="decoded face" src="' + r.image + '">' +
        (r.original ? '<img alt="original image" src="' + r.original + '">' : '') +
        '<div>' + (r.original ? 'decoded · original — ' : '') + r.label + '</div>';
      tip.style.display = 'block';
    });
  });
  div.on('plotly_unhover', () => { hoverSeq++; tip.style.display = 'none'; });
  div.on('plotly_click', ev => {
    const p = ev.points[0];
    if (p.customdata !== undefined) trigger('select', {index: p.customdata, value: 'point', selected: true});
  });
  div.on('plotly_selected', ev => {
    if (!ev || !ev.points) return;
    const idx = ev.points.map(p => p.customdata).filter(i => i !== undefined);
    trigger('select', {index: idx, value: 'selection', selected: true});
  });
}
draw();
watch('value', draw);
"""


def hover_server(explorer_now: Callable[[], Explorer]):
    """The function the map's script calls on hover (``server.point_face``); ``explorer_now`` gives the
    app's explorer when called."""

    def point_face(request: dict) -> dict:
        """Called from the browser with {model, index}: the decoded face of that point, and the original image
        beside it when the app was given a local copy of the data (--data)."""
        explorer = explorer_now()
        try:
            name, index = str(request["model"]), int(request["index"])
        except (KeyError, TypeError, ValueError):
            return {"image": "", "original": "", "label": "a hover names a model and a point index"}
        try:
            _, face, label = explorer.point(name, index)
            original = explorer.original(name, index)
        except ExplorerInputError as error:
            return {"image": "", "original": "", "label": str(error)}
        except Exception as error:
            return {"image": "", "original": "", "label": report_internal(error, "map hover")}
        return {"image": data_url(png_bytes(face, upscale=2)), "label": label,
                "original": "" if original is None else data_url(png_bytes(original, upscale=2))}

    return point_face


def latent_map(point_face, elem_id: str = "latent-map") -> gr.HTML:
    """The widget; ``point_face({"model": name, "index": i}) -> {"image": data URL, "label": str}`` serves
    hovers (server functions take one argument from the browser)."""
    return gr.HTML(value=None, html_template=TEMPLATE, css_template=CSS, js_on_load=JS,
                   head=f'<script src="/gradio_api/file={PLOTLY_JS}"></script>', server_functions=[point_face],
                   elem_id=elem_id, container=False, apply_default_css=False)


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
