"""Errors a user can cause in the explorer; the UIs show their message, never a traceback."""

from trainer.models import CheckpointError  # re-exported: a wrong or stale model folder


class ImageInputError(ValueError):
    """An upload that is not a usable image (empty, corrupt, too large, not an image)."""


class LatentInputError(ValueError):
    """A latent vector or shared state that is malformed or does not fit the model."""


__all__ = ["CheckpointError", "ImageInputError", "LatentInputError"]
