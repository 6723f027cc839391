"""Display-ready outputs: PNG bytes, image strips and grids, animated GIFs."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_pil(image: np.ndarray, upscale: int = 1) -> Image.Image:
    """uint8 (H, W, C) → PIL image, optionally enlarged with nearest-neighbour (crisp 64-px faces)."""
    pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    return pil.resize((pil.width * upscale, pil.height * upscale), Image.Resampling.NEAREST) if upscale > 1 else pil


def png_bytes(image: np.ndarray, upscale: int = 1) -> bytes:
    buffer = io.BytesIO()
    to_pil(image, upscale).save(buffer, format="PNG", compress_level=1)  # level 1: fast, still small
    return buffer.getvalue()


def grid(images: np.ndarray, columns: int, padding: int = 2, background: int = 255) -> np.ndarray:
    """(N, H, W, C) uint8 → one (rows·(H+p)+p, columns·(W+p)+p, C) image, left to right, top to bottom."""
    count, height, width, channels = images.shape
    rows = -(-count // columns)
    canvas = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
                     background, np.uint8)
    for i, image in enumerate(images):
        top, left = padding + (i // columns) * (height + padding), padding + (i % columns) * (width + padding)
        canvas[top : top + height, left : left + width] = image
    return canvas


def gif_bytes(frames: np.ndarray, frame_ms: int = 120, upscale: int = 2, bounce: bool = True) -> bytes:
    """(N, H, W, C) uint8 → an endlessly looping GIF (there and back again when ``bounce``)."""
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce and len(frames) > 2 else [])
    pils = [to_pil(f, upscale) for f in sequence]
    buffer = io.BytesIO()
    pils[0].save(buffer, format="GIF", save_all=True, append_images=pils[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
