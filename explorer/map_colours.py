"""One colour per map category, decided once for both front ends.

Plotly's default colour cycle has 10 colours, so the 16 k-means clusters (and the 12 hair colours) came out
with repeated colours: cluster 0 and cluster 10 looked like one cluster. Here every category of a colouring
gets its own colour from a palette large enough for it, and the hair and eye tags, which name colours, are
drawn in the colour they name. Untagged points (the untagged Kaggle half of the anime faces, 40 % of the
map) are drawn faint, beneath the rest.
"""

from __future__ import annotations

from plotly.colors import qualitative

UNTAGGED_LABEL = "(untagged)"
UNTAGGED_COLOUR = "rgba(150, 150, 150, 0.3)"
TAG_COLOURINGS = ("hair", "eyes")
# The colour words of the tagged anime faces' tags.csv, as a reader would picture them.
NAMED_COLOURS = {
    "aqua": "#17c3c3", "black": "#1f1f1f", "blonde": "#f2c12e", "blue": "#2f6fdf", "brown": "#8b5a2b",
    "gray": "#8c8c8c", "grey": "#8c8c8c", "green": "#2ca02c", "orange": "#ff8c1a", "pink": "#ff8fc8",
    "purple": "#8e44ad", "red": "#d62728", "white": "#d6d6d6", "yellow": "#e8dc2a",
}


def palette(count: int) -> list[str]:
    """Plotly's qualitative palettes: its default 10 where they suffice, else 24 or 26 distinct colours
    (beyond 26 categories colours repeat)."""
    if count <= len(qualitative.Plotly):
        return list(qualitative.Plotly)
    if count <= len(qualitative.Dark24):
        return list(qualitative.Dark24)
    return list(qualitative.Alphabet)


def category_colours(colour_by: str, categories: list[str]) -> list[str]:
    """A CSS colour for each of ``categories`` (in their order) under the colouring ``colour_by``."""
    tagged = [c for c in categories if c != UNTAGGED_LABEL]
    if colour_by in TAG_COLOURINGS and all(c.lower() in NAMED_COLOURS for c in tagged):
        named = {c: NAMED_COLOURS[c.lower()] for c in tagged}
    else:
        colours = palette(len(tagged))
        named = {c: colours[i % len(colours)] for i, c in enumerate(tagged)}
    return [named.get(c, UNTAGGED_COLOUR) for c in categories]
