"""The interactive latent map for the Gradio app: a gr.HTML widget drawing Plotly.js (served from the installed
``plotly`` package, no CDN) with WebGL, sending clicks and box/lasso selections back as ``select`` events and
asking the server for the face under the cursor on hover."""

from __future__ import annotations

import base64
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import plotly

from explorer.errors import ExplorerInputError, RequestError, report_internal
from explorer.render import png_bytes
from explorer.service import Explorer
from webui.gradio_app.api import user_errors

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
gr.set_static_paths([str(PLOTLY_JS.parent)])

TEMPLATE = ("<div class='map-wrap'><button class='map-find' type='button' hidden>Show my face</button>"
            "<div class='map-status' hidden></div><div class='latent-map'></div><div class='map-tip'></div></div>")
CSS = """
.map-wrap { position: relative; }
.latent-map { width: 100%; height: 560px; }
.map-tip { position: absolute; display: none; pointer-events: none; background: #fff; border: 1px solid #ccc;
           border-radius: 6px; padding: 4px; font-size: 12px; max-width: 280px; z-index: 10;
           box-shadow: 0 2px 8px rgba(0,0,0,.2); }
.map-tip img { width: 128px; height: 128px; image-rendering: pixelated; display: inline-block; vertical-align: top; }
.map-tip img + img { margin-left: 4px; }
.map-find { position: absolute; left: 8px; top: 4px; z-index: 5; padding: 2px 10px; border-radius: 6px;
            border: 1px solid #999; background: #fff; font-size: 13px; cursor: pointer; }
.map-status { position: absolute; inset: 0; z-index: 6; display: flex; align-items: center; justify-content: center;
              background: rgba(255,255,255,.85); font-size: 15px; color: #333; }
.map-status[hidden], .map-find[hidden] { display: none; }
"""
# Runs once when the widget mounts; `watch` redraws whenever Python sends a new payload (another map,
# colouring, model, or an uploaded face to mark). Hover asks the server for the decoded face of the point.
JS = """
let hoverSeq = 0;
let dragmode = 'lasso';  // the user's tool (box or lasso) survives a new colouring or map
function webgl() {
  try { const c = document.createElement('canvas'); return !!(c.getContext('webgl2') || c.getContext('webgl')); }
  catch (e) { return false; }
}
function typed(base64, Type) {
  if (typeof base64 !== 'string') return Type.from(base64);  // plain lists (the benchmark's baseline)
  const text = atob(base64), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Type(bytes.buffer);
}
function draw() {
  const v = props.value;
  const div = element.querySelector('.latent-map');
  const tip = element.querySelector('.map-tip');
  const status = element.querySelector('.map-status');
  const find = element.querySelector('.map-find');
  if (!div || !v || typeof Plotly === 'undefined') return;
  div.dataset.model = v.model || '';
  if (v.loading) {
    // Another model or map is on its way: the old points are covered at once, so no click or hover reaches
    // them (the plot itself stays, for Plotly.react to reuse).
    delete div.dataset.points;
    tip.style.display = 'none';
    hoverSeq++;
    find.hidden = true;
    status.textContent = 'Drawing the map of ' + v.model + '…';
    status.hidden = false;
    return;
  }
  if (!v.x) return;
  const useGL = webgl();
  const type = useGL ? 'scattergl' : 'scatter';
  // The points come as base64 typed arrays (see packed()): one trace per category, filled without copies
  // of JavaScript number lists.
  const xs = typed(v.x, Float32Array), ys = typed(v.y, Float32Array), codes = typed(v.codes, Uint16Array);
  const counts = new Int32Array(v.categories.length);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
  const cols = Array.from(counts, n => ({x: new Float32Array(n), y: new Float32Array(n), idx: new Int32Array(n), n: 0}));
  for (let i = 0; i < codes.length; i++) {
    const c = cols[codes[i]];
    c.x[c.n] = xs[i]; c.y[c.n] = ys[i]; c.idx[c.n] = i; c.n++;
  }
  const traces = cols.map((c, k) => ({
    type: type, mode: 'markers', name: v.categories[k], x: c.x, y: c.y, customdata: c.idx, hoverinfo: 'none',
    marker: {size: v.count > 20000 ? 3 : 6, opacity: 0.75, color: v.colours ? v.colours[k] : undefined}
  }));
  const annotations = [];
  if (v.highlight) {
    // The same renderer as the points and drawn last, so the star is on top of them (an SVG trace sits under
    // the WebGL canvas); its label is an annotation, which Plotly draws above every trace.
    traces.push({type: type, mode: 'markers', name: 'your face', x: [v.highlight.x], y: [v.highlight.y],
                 hoverinfo: 'skip', marker: {symbol: 'star', size: 22, color: '#000', opacity: 1,
                                             line: {color: '#fff', width: 2}}});
    annotations.push({x: v.highlight.x, y: v.highlight.y, text: 'your face', showarrow: true, arrowhead: 2,
                      ax: 0, ay: -34, bgcolor: '#fff', bordercolor: '#000', font: {size: 12}});
  }
  // The top margin holds the toolbar, so the legend (beside the plot) never sits under it. In a narrow window
  // (a phone) the legend goes in rows under the map: beside it, it took a third of the width from the points.
  const narrow = div.clientWidth > 0 && div.clientWidth < 640;
  const legend = narrow ? {itemsizing: 'constant', orientation: 'h', x: 0, y: 0, yanchor: 'top'}
                        : {itemsizing: 'constant'};
  const layout = {dragmode: dragmode, hovermode: 'closest', height: narrow ? 640 : 560,
                  margin: {l: 8, r: 8, t: 34, b: 8}, xaxis: {visible: false}, yaxis: {visible: false},
                  legend: legend, annotations: annotations};
  // Nothing leaves the app: no "Share chart…" to Plotly's cloud.
  Plotly.react(div, traces, layout, {displaylogo: false, responsive: true, showSendToCloud: false,
                                    modeBarButtonsToRemove: ['sendChartToCloud']}).then(() => {
    div.dataset.points = String(v.count);
    div.dataset.map = v.map + '/' + v.colour_by;
    div.dataset.renderer = useGL ? 'webgl' : 'svg';
    status.hidden = true;
  });
  find.hidden = !v.highlight;
  find.onclick = () => {
    // Centre the star in a view a quarter of the map's width, close enough to tell its neighbours apart.
    const span = (a) => (a.reduce((m, t) => Math.max(m, t), -Infinity) - a.reduce((m, t) => Math.min(m, t), Infinity)) / 8 || 1;
    const dx = span(xs), dy = span(ys);
    Plotly.relayout(div, {'xaxis.range': [v.highlight.x - dx, v.highlight.x + dx],
                          'yaxis.range': [v.highlight.y - dy, v.highlight.y + dy]});
  };
  if (div.removeAllListeners) {
    ['plotly_hover', 'plotly_unhover', 'plotly_click', 'plotly_selected', 'plotly_relayout']
      .forEach(e => div.removeAllListeners(e));
  }
  div.on('plotly_relayout', ev => { if (ev && ev.dragmode) dragmode = ev.dragmode; });
  div.on('plotly_hover', ev => {
    if (props.value && props.value.loading) return;
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
        '<div>' + (r.original ? 'decoded · original — ' : 'as the model draws it — ') + r.label + '</div>';
      tip.style.display = 'block';
    });
  });
  div.on('plotly_unhover', () => { hoverSeq++; tip.style.display = 'none'; });
  // Each click or selection names the model whose map it was made on: the server refuses it for another.
  div.on('plotly_click', ev => {
    const p = ev.points[0];
    if (p.customdata !== undefined) {
      trigger('select', {index: p.customdata, value: {kind: 'point', model: v.model}, selected: true});
    }
  });
  div.on('plotly_selected', ev => {
    if (!ev || !ev.points) return;
    const idx = ev.points.map(p => p.customdata).filter(i => i !== undefined);
    trigger('select', {index: idx, value: {kind: 'selection', model: v.model}, selected: true});
  });
}
draw();
watch('value', draw);
"""


def hover_server(explorer: Explorer):
    """The function the map's script calls on hover (``server.point_face``), over ``explorer``."""

    def point_face(request: dict) -> dict:
        """Called from the browser with {model, index}: the decoded face of that point, and the original image
        beside it when the app was given a local copy of the data (--data)."""
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
        return {"image": data_url(png_bytes(face)), "label": label,
                "original": "" if original is None else data_url(png_bytes(original))}

    return point_face


def latent_map(point_face, elem_id: str = "latent-map") -> gr.HTML:
    """The widget; ``point_face({"model": name, "index": i}) -> {"image": data URL, "label": str}`` serves
    hovers (server functions take one argument from the browser)."""
    return gr.HTML(value=None, html_template=TEMPLATE, css_template=CSS, js_on_load=JS,
                   head=f'<script src="/gradio_api/file={PLOTLY_JS}"></script>', server_functions=[point_face],
                   elem_id=elem_id, container=False, apply_default_css=False)


# The same value, made in the browser the moment the user picks another model, map or colouring.
MAP_LOADING_JS = "(name) => ({model: name, loading: true})"


def loading(name: str) -> dict:
    """The map's value while the map of ``name`` is being computed: the widget clears the old points and says so."""
    return {"model": name, "loading": True}


def packed(payload: dict) -> dict:
    """The core's map payload as the widget takes it: x and y as base64 little-endian float32, the category
    codes as uint16. 58k points as JSON number lists were 1.07 MB that Gradio walked number by number (≈ 2 s
    from request to browser, measured); three strings cross in a fraction of that."""
    if payload.get("x") is None:
        return payload
    return {**payload, "encoding": "base64 little-endian: x, y float32; codes uint16",
            "x": b64(np.asarray(payload["x"], "<f4")), "y": b64(np.asarray(payload["y"], "<f4")),
            "codes": b64(np.asarray(payload["codes"], "<u2"))}


def unpacked(payload: dict) -> dict:
    """``packed`` undone: the core's lists again (for API clients and tests)."""
    def array(key, dtype):
        return np.frombuffer(base64.b64decode(payload[key]), dtype).tolist()
    return {**payload, "x": array("x", "<f4"), "y": array("y", "<f4"), "codes": array("codes", "<u2")}


def b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def map_handlers(explorer: Explorer, app: SimpleNamespace) -> SimpleNamespace:
    """``controls``, ``show``, ``select`` and ``place_upload``: the map's event handlers over ``explorer``;
    ``app``: the app's handlers (``new_base`` makes a latent the slider face, ``image_file`` hands out a face)."""
    new_base, image_file, slider_count = app.new_base, app.image_file, app.slider_count

    @user_errors
    def controls(name: str):
        """A model picked: its maps and colourings, and the old map cleared at once (it shows another model)."""
        maps, colourings = explorer.map_options(name)
        return gr.Radio(choices=maps, value=maps[0]), gr.Dropdown(choices=colourings, value="cluster"), loading(name)

    @user_errors
    def show(name: str, map_name: str, colour_by: str):
        maps, colourings = explorer.map_options(name)
        map_name = map_name if map_name in maps else maps[0]
        colour_by = colour_by if colour_by in colourings else "cluster"
        return packed(explorer.map_data(name, map_name, colour_by))

    @user_errors
    def select(name: str, evt: gr.SelectData):
        """A click loads that point's latent into the sliders; a box/lasso selection fills the gallery. Each
        names the model whose map it was made on: one made on the previous model's map in the moment of a
        switch would load another model's point."""
        made_on = evt.value.get("model") if isinstance(evt.value, dict) else None
        if made_on != name:
            raise RequestError(f"that {'click' if made_on else 'selection'} was on the map of "
                               f"{made_on or 'another model'}; wait for the map of {name}, then try again")
        if evt.value.get("kind") == "selection":
            indices = evt.index if isinstance(evt.index, list) else [evt.index]
            faces = [(image_file(face, f"point-{name}"), label) for face, label in explorer.selection(name, indices)]
            info = f"{len(indices):,} faces selected" + (f" (showing {len(faces)})" if len(faces) < len(indices) else "")
            return [gr.skip(), gr.skip(), *[gr.skip()] * slider_count, faces, info]
        latent, _, label = explorer.point(name, int(evt.index))
        return [*new_base(name, latent), gr.skip(), f"Loaded into the sliders: {label}"]

    @user_errors
    def place_upload(name: str, base, map_name: str, colour_by: str):
        """Mark the uploaded face on the map and list its nearest encoded neighbours."""
        payload = show(name, map_name, colour_by)
        placed = explorer.placement(name, base, payload["map"])
        payload["highlight"] = {"x": placed["x"], "y": placed["y"]}
        neighbours = [(image_file(face, f"point-{name}"), f"{label} · d={d:.2f}") for (face, label), d in
                      zip(explorer.selection(name, placed["neighbours"]), placed["distances"])]
        return payload, neighbours

    return SimpleNamespace(controls=controls, show=show, select=select, place_upload=place_upload)
