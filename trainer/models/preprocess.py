"""Any decoded image → the input a model expects: RGB (or L), centre-cropped, resized, uint8 CHW.

Part of the checkpoint contract (the trainer feeds it data, the explorer feeds it uploads), so it lives here."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps


def to_model_array(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """Any PIL image (palette, alpha, 16-bit, CMYK, any size) → uint8 array (channels, size, size)."""
    image = flatten_mode(image)
    image = image.convert("L" if channels == 1 else "RGB")
    if image.size != (size, size):
        # ImageOps.fit centre-crops to the target aspect ratio, then resamples with antialiasing.
        image = ImageOps.fit(image, (size, size), Image.Resampling.BICUBIC)
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def flatten_mode(image: Image.Image) -> Image.Image:
    """Modes PIL cannot convert to RGB faithfully: composite transparency on white, rescale >8-bit depth."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image
