"""What a user can cause in the explorer, as one family of errors, and how a front end reports the rest.

A front end catches ``ExplorerInputError`` and shows its message as one line. Anything else that escapes a
handler is a bug of ours: ``report_internal`` logs it with its traceback and gives the short line to show, so
it is never passed off as the user's mistake nor hidden from the log.
"""

from __future__ import annotations

import logging
import secrets

from trainer.models import CheckpointError as TrainerCheckpointError

log = logging.getLogger("explorer")


class ExplorerInputError(Exception):
    """Something a user (or the person serving the app) can cause and put right; its message says how."""


class ImageInputError(ExplorerInputError):
    """An upload that is not a usable image (empty, corrupt, too large, not an image)."""


class LatentInputError(ExplorerInputError):
    """A latent vector or shared state that is malformed or does not fit the model."""


class RequestError(ExplorerInputError):
    """A value out of its range or a choice that does not exist (a count, a map, a prior, a point)."""


class CheckpointError(ExplorerInputError, TrainerCheckpointError):
    """A model that is not there, or a folder that is wrong or stale (the trainer's error, as the explorer's)."""


def report_internal(error: BaseException, where: str) -> str:
    """Log ``error`` with its traceback under a short reference; return the one line a user sees."""
    reference = secrets.token_hex(3)
    log.error("internal error %s in %s", reference, where, exc_info=error)
    return f"internal error (ref {reference}): logged on the server; not caused by your input"


__all__ = ["CheckpointError", "ExplorerInputError", "ImageInputError", "LatentInputError", "RequestError",
           "report_internal"]
