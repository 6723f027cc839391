"""The app's endpoints with no widget of their own, for ``gradio_client`` and other API users.

Each takes plain JSON values (a model name, a latent, slider offsets, map indices) and keeps no session
state, so a script can drive the explorer without a page. ``user_errors`` turns the errors a user can cause
into a one-line message for every handler of the app.
"""

from __future__ import annotations

import functools

import gradio as gr

from explorer.errors import ExplorerInputError, report_internal
from explorer.latents import check_latent
from explorer.render import png_bytes
from explorer.service import Explorer
from explorer.share import check_offsets
from webui.gradio_app.outputs import write_output


def user_errors(handler):
    """An error a user can cause becomes its one line in the page (gr.Error), never a traceback; any other
    is a bug: logged with its traceback, and the page says so in one line (never a bare "Error")."""

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except ExplorerInputError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception as error:
            raise gr.Error(report_internal(error, handler.__name__), print_exception=False) from None

    return wrapped


def add_api_endpoints(explorer: Explorer, slider_count: int) -> None:
    """Register /face, /sliders, /map_point and /map_selection over ``explorer`` in the Blocks being built."""

    def face(model: str, latent: list[float], offsets: list[float]) -> gr.FileData:
        """The face the sliders show, as a PNG: ``latent`` (from /map_point, /export_latent, …) moved by
        ``offsets``, one per slider in /sliders order, in σ within ±3 (fewer values leave the rest at 0)."""
        base = check_latent(latent, explorer.model(model).latent_dim)
        png = png_bytes(explorer.face(model, base, check_offsets(offsets, slider_count))[0])
        return gr.FileData(path=write_output(f"face-{model}", ".png", png), mime_type="image/png")

    def sliders(model: str) -> list[str]:
        """The model's slider directions in order: its most active latent dimensions (VAE) or principal
        directions (DCGAN), then named attribute directions from the atlas."""
        return [d.name for d in explorer.sliders(model)]

    def map_point(model: str, index: int) -> dict:
        """The latent and description of map point ``index``."""
        latent, _, label = explorer.point(model, index)
        return {"latent": latent.tolist(), "label": label}

    def map_selection(model: str, indices: list[int]) -> list[str]:
        """The ids of the selected map points (the gallery shows their faces)."""
        return [label for _, label in explorer.selection(model, indices)]

    for handler in (face, sliders, map_point, map_selection):
        gr.api(user_errors(handler), api_name=handler.__name__)
