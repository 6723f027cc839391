"""The latent map as a Plotly figure (for front ends that take a Python figure, such as Streamlit)."""

from __future__ import annotations

import plotly.graph_objects as go


def map_figure(payload: dict, highlight: tuple[float, float] | None = None, height: int = 560) -> go.Figure:
    """One WebGL trace per category; every point carries its atlas index as ``customdata`` so selections
    map back to atlas rows whatever trace they fall in."""
    buckets: list[list[int]] = [[] for _ in payload["categories"]]
    for index, code in enumerate(payload["codes"]):
        buckets[code].append(index)
    figure = go.Figure()
    marker_size = 3 if payload["count"] > 20_000 else 6
    for name, colour, indices in zip(payload["categories"], payload["colours"], buckets):
        figure.add_trace(go.Scattergl(
            x=[payload["x"][i] for i in indices], y=[payload["y"][i] for i in indices], customdata=indices,
            mode="markers", name=str(name), marker={"size": marker_size, "opacity": 0.75, "color": colour},
            hovertemplate="point %{customdata}<extra>%{fullData.name}</extra>"))
    if highlight is not None:
        figure.add_trace(go.Scatter(x=[highlight[0]], y=[highlight[1]], mode="markers+text", name="your face",
                                    text=["your face"], textposition="top center", hoverinfo="skip",
                                    marker={"symbol": "star", "size": 20, "color": "#111"}))
    figure.update_layout(height=height, dragmode="lasso", margin={"l": 8, "r": 8, "t": 8, "b": 8},
                         xaxis={"visible": False}, yaxis={"visible": False}, legend={"itemsizing": "constant"})
    return figure
