"""Map selections coming back from a plot front end → atlas row indices."""

from __future__ import annotations


def indices_from_selection(selection) -> list[int]:
    """Atlas indices of the selected points of a Plotly selection (Streamlit's ``PlotlyState.selection`` or
    the same dict shape). Each point carries its atlas index as ``customdata``, so the result is right
    whichever trace (colour category) a point belongs to; ``point_index`` is only an index within its
    trace and is never used. Order kept, duplicates dropped."""
    points = (selection or {}).get("points", []) if isinstance(selection, dict) else getattr(selection, "points", [])
    seen, indices = set(), []
    for point in points or []:
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if data is None:
            continue  # a marker without an atlas row (e.g. the "your face" star)
        index = int(data)
        if index not in seen:
            seen.add(index)
            indices.append(index)
    return indices
