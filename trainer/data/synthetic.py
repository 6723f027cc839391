"""Synthetic anime-style faces drawn by code, with known generative factors.

Used by the tests and for a quick demo without data: every image is a deterministic function of
(seed, index), and its factors (hair hue, eye hue, face size, position) are returned alongside, so a
learned latent direction can be checked against the truth.
"""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image, ImageDraw

FACTOR_NAMES = ("hair_hue", "eye_hue", "face_size", "position_x", "position_y")
# Hue bins named like the tagged dataset's colours, so synthetic tags look like real ones.
HUE_NAMES = ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "pink")
HUE_CENTRES = (0.0, 0.08, 0.15, 0.33, 0.5, 0.62, 0.75, 0.9)


def hue_name(hue: float) -> str:
    distance = [min(abs(hue - c), 1 - abs(hue - c)) for c in HUE_CENTRES]
    return HUE_NAMES[int(np.argmin(distance))]


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    return tuple(int(255 * c) for c in colorsys.hsv_to_rgb(hue, saturation, value))


def draw_face(size: int, rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """One face at ``size``×``size`` RGB and its factor vector (see FACTOR_NAMES)."""
    hair_hue, eye_hue = rng.random(), rng.random()
    face_size = rng.uniform(0.45, 0.65)
    pos_x, pos_y = rng.uniform(-0.08, 0.08), rng.uniform(-0.06, 0.06)
    scale = 4 * size  # draw large, downsample with antialiasing
    canvas = Image.new("RGB", (scale, scale), _rgb(rng.random(), 0.15, 0.95))
    draw = ImageDraw.Draw(canvas)
    cx, cy = scale * (0.5 + pos_x), scale * (0.55 + pos_y)
    r = scale * face_size / 2
    hair = _rgb(hair_hue, 0.75, 0.85)
    draw.ellipse([cx - 1.3 * r, cy - 1.45 * r, cx + 1.3 * r, cy + 1.1 * r], fill=hair)  # hair mass
    draw.ellipse([cx - r, cy - 0.9 * r, cx + r, cy + 1.05 * r], fill=(250, 224, 200))  # face
    draw.chord([cx - 1.15 * r, cy - 1.5 * r, cx + 1.15 * r, cy - 0.1 * r], 180, 360, fill=hair)  # fringe
    for side in (-1, 1):  # big anime eyes: white, coloured iris, dark pupil, highlight
        ex, ey, ew, eh = cx + side * 0.42 * r, cy + 0.15 * r, 0.24 * r, 0.32 * r
        draw.ellipse([ex - ew, ey - eh, ex + ew, ey + eh], fill=(255, 255, 255))
        draw.ellipse([ex - 0.8 * ew, ey - 0.85 * eh, ex + 0.8 * ew, ey + 0.85 * eh], fill=_rgb(eye_hue, 0.8, 0.8))
        draw.ellipse([ex - 0.35 * ew, ey - 0.4 * eh, ex + 0.35 * ew, ey + 0.4 * eh], fill=(30, 20, 30))
        draw.ellipse([ex - 0.5 * ew, ey - 0.7 * eh, ex - 0.1 * ew, ey - 0.3 * eh], fill=(255, 255, 255))
    draw.line([cx - 0.12 * r, cy + 0.7 * r, cx + 0.12 * r, cy + 0.7 * r], fill=(190, 80, 90), width=max(1, scale // 64))
    image = canvas.resize((size, size), Image.Resampling.LANCZOS)
    return image, np.array([hair_hue, eye_hue, face_size, pos_x, pos_y], dtype=np.float32)


def synthetic_faces(count: int, size: int, seed: int = 0):
    """Yield (index, image, factors, tags) for ``count`` faces; image i depends only on (seed, i)."""
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        image, factors = draw_face(size, rng)
        tags = {"hair": hue_name(float(factors[0])), "eyes": hue_name(float(factors[1]))}
        yield index, image, factors, tags
