"""Pure operations on latent vectors (numpy float32), shared by every front end."""

from __future__ import annotations

import numpy as np

from explorer.errors import LatentInputError


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative latents): keeps the norm typical
    of a Gaussian sample on the way, where lerp passes through the unlikely low-norm middle."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos = np.dot(a64, b64) / (np.linalg.norm(a64) * np.linalg.norm(b64) + 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:  # (anti)parallel within rounding: the arc is a line
        return lerp(a, b, t)
    return ((np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, frames: int, mode: str = "slerp") -> np.ndarray:
    """(frames, D) latents from a to b inclusive."""
    if frames < 2:
        raise LatentInputError("an interpolation needs at least 2 frames")
    if mode not in ("lerp", "slerp"):
        raise LatentInputError(f"interpolation mode must be lerp or slerp, not '{mode}'")
    step = lerp if mode == "lerp" else slerp
    return np.stack([step(a, b, t) for t in np.linspace(0.0, 1.0, frames)])


SLIDER_SPAN = 3.0  # every slider runs from −3σ to +3σ (seed 003's traversal)


def apply_directions(base: np.ndarray, directions: np.ndarray, offsets: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """base + Σ offset_k · scale_k · direction_k: slider k at offset ±3 moves ±3σ along direction k, σ being
    the spread of the encoded data along it (seed 003's −3σ…+3σ traversal)."""
    return (base + (np.asarray(offsets, np.float32) * np.asarray(scales, np.float32)) @ directions).astype(np.float32)


def check_latent(values, latent_dim: int) -> np.ndarray:
    """A user-supplied latent as float32 (latent_dim,), or a clear LatentInputError."""
    if values is None:  # e.g. an API call before any model was chosen
        raise LatentInputError("there is no face yet: choose a model first")
    try:
        vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise LatentInputError("the latent must be a list of numbers") from None
    if vector.shape != (latent_dim,):
        raise LatentInputError(f"the latent has {vector.size} values; this model needs {latent_dim}")
    if not np.isfinite(vector).all():
        raise LatentInputError("the latent contains NaN or infinite values")
    if np.abs(vector).max() > 1e3:
        raise LatentInputError("the latent has values beyond ±1000; that is not a latent of this model")
    return vector
