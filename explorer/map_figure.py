"""The latent map as a Plotly figure (for front ends that take a Python figure, such as Streamlit)."""

from __future__ import annotations

import plotly.graph_objects as go


def map_figure(payload: dict, highlight: tuple[float, float] | None = None, height: int = 560,
               focus: bool = False) -> go.Figure:
    """One WebGL trace per category; every point carries its atlas index as ``customdata`` so selections
    map back to atlas rows whatever trace they fall in. ``focus``: the view centred on ``highlight``, a
    quarter of the map wide, close enough to tell its neighbours apart."""
    buckets: list[list[int]] = [[] for _ in payload["categories"]]
    for index, code in enumerate(payload["codes"]):
        buckets[code].append(index)
    figure = go.Figure()
    marker_size = 3 if payload["count"] > 20_000 else 6
    for name, colour, indices in zip(payload["categories"], payload["colours"], buckets):
        figure.add_trace(go.Scattergl(
            x=[payload["x"][i] for i in indices], y=[payload["y"][i] for i in indices], customdata=indices,
            mode="markers", name=str(name), marker={"size": marker_size, "opacity": 0.75, "color": colour},
            hovertemplate="%{fullData.name} · click to see this face<extra></extra>"))
    if highlight is not None:
        # WebGL like the points and added last, so the star is drawn on top of them (an SVG trace sits under the
        # WebGL canvas); its label is an annotation, which Plotly draws above every trace.
        figure.add_trace(go.Scattergl(x=[highlight[0]], y=[highlight[1]], mode="markers", name="your face",
                                      hoverinfo="skip", marker={"symbol": "star", "size": 22, "color": "#000",
                                                                "line": {"color": "#fff", "width": 2}}))
        figure.add_annotation(x=highlight[0], y=highlight[1], text="your face", showarrow=True, arrowhead=2, ax=0,
                              ay=-34, bgcolor="#fff", bordercolor="#000")
    # A click selects its point only outside the lasso and box tools (there a click is an empty selection), so
    # the map opens on pan, the other tools in its toolbar; uirevision: the user's tool and zoom survive a
    # rerun that redraws the same map. The top margin holds the toolbar, so the legend never sits under it.
    figure.update_layout(height=height, dragmode="pan", clickmode="event+select", margin={"l": 8, "r": 8, "t": 34, "b": 8},
                         xaxis={"visible": False}, yaxis={"visible": False}, legend={"itemsizing": "constant"},
                         uirevision=payload.get("model", "") + "/" + payload.get("map", "") + ("/focus" if focus else ""))
    if focus and highlight is not None:
        for axis, values, centre in (("xaxis", payload["x"], highlight[0]), ("yaxis", payload["y"], highlight[1])):
            half = (max(values) - min(values)) / 8 or 1.0
            figure.update_layout({axis: {"range": [centre - half, centre + half]}})
    return figure
