"""Uploaded files → model input, refusing what is not a usable image with one clear message."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from explorer.errors import ImageInputError
from trainer.models.preprocess import to_model_array

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_PIXELS = 40_000_000  # well above any photo, far below a decompression bomb


def read_upload(data: bytes | None, size: int, channels: int) -> np.ndarray:
    """Bytes of any common image file → uint8 (channels, size, size). Animated images give their first
    frame; CMYK, 16-bit, palette and transparent images are converted (transparency onto white)."""
    if not data:
        raise ImageInputError("the uploaded file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageInputError(f"the file is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageInputError(f"the image is {width}×{height} pixels; the limit is {MAX_PIXELS:,} pixels")
                image.seek(0)  # first frame of an animation
                image.load()
                return to_model_array(image, size, channels)
    except ImageInputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageInputError("the file is not an image this app can read (PNG, JPEG, WebP, GIF, BMP, TIFF)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageInputError(f"the image is damaged or truncated ({error})") from None


def read_upload_file(path, size: int, channels: int) -> np.ndarray:
    """As ``read_upload``, from a file path (what Gradio and Streamlit hand over)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_UPLOAD_BYTES + 1)
    except OSError as error:
        raise ImageInputError(f"cannot read the uploaded file: {error.strerror}") from None
    return read_upload(data, size, channels)
