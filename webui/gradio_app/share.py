"""Sharing a face from the Gradio app: a link that reopens it, and a latent exported to or imported from JSON.

The handlers are built over the app's explorer and its own ``new_base`` (the outputs that make a latent the
slider face), so they stay in step with the slider layout.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np

from explorer.errors import LatentInputError
from explorer.latents import SLIDER_SPAN, check_latent
from explorer.service import Explorer
from explorer.share import PageState, latent_from_json, latent_to_json
from webui.gradio_app.api import user_errors
from webui.gradio_app.outputs import write_output


def share_handlers(explorer: Explorer, app: SimpleNamespace) -> SimpleNamespace:
    """``share_link``, ``restore_from_url``, ``apply_url_state``, ``export_latent`` and ``import_latent`` over
    ``explorer``; ``app``: the app's handlers (``new_base``, ``face_view``)."""
    new_base, face_view, slider_count = app.new_base, app.face_view, app.slider_count

    @user_errors
    def share_link(name: str, seed: int, temperature: float, base, request: gr.Request, *offsets):
        """A link that reopens this face: model, seed, temperature, slider offsets (and an uploaded base).
        ``request`` sits before ``*offsets``: Gradio passes a gr.Request only to a positional parameter (as a
        keyword-only one it stayed None, and the link came out without the app's address)."""
        directions = explorer.sliders(name)
        base = check_latent(base, explorer.model(name).latent_dim)
        random = explorer.random_base(name, int(seed), float(temperature))
        state = PageState(name, int(seed), float(temperature),
                          {d.name: float(v) for d, v in zip(directions, offsets) if v},
                          None if np.allclose(base, random) else base.round(5).tolist())
        root = str(request.request.base_url) if request is not None else ""
        return f"{root}?{state.to_query()}"  # shown as text with a copy button: what is shared is visible

    def restore_from_url(request: gr.Request):
        """Page opened with ?state=…: pick its model, seed and temperature; its sliders follow."""
        query = str(request.query_params) if request is not None else ""
        if "state=" not in query:
            return gr.skip(), gr.skip(), gr.skip(), None
        try:
            state = PageState.from_query(query)
        except LatentInputError as error:
            gr.Warning(str(error))
            return gr.skip(), gr.skip(), gr.skip(), None
        if state.model not in explorer.model_names():
            gr.Warning(f"the link names model '{state.model}', which this app does not have")
            return gr.skip(), gr.skip(), gr.skip(), None
        return state.model, state.seed, state.temperature, vars(state)

    @user_errors
    def apply_url_state(name: str, pending):
        """After the model loaded: the link's base latent and slider offsets."""
        if not pending:
            return [gr.skip()] * (2 + slider_count)
        directions = [d.name for d in explorer.sliders(name)]
        offsets = [float(pending["sliders"].get(n, 0.0)) for n in directions]
        offsets += [0.0] * (slider_count - len(offsets))
        base = (check_latent(pending["latent"], explorer.model(name).latent_dim) if pending.get("latent")
                else explorer.random_base(name, int(pending["seed"]), float(pending["temperature"])))
        offsets = [float(np.clip(v, -SLIDER_SPAN, SLIDER_SPAN)) for v in offsets]  # a hand-edited link stays in range
        return [base.tolist(), face_view(name, base, offsets), *offsets]

    @user_errors
    def export_latent(name: str, base, *offsets):
        latent = explorer.slider_latent(name, base, list(offsets))
        return write_output(f"latent-{name}", ".json", latent_to_json(latent, name).encode())

    @user_errors
    def import_latent(name: str, path):
        if path is None:
            raise LatentInputError("choose a latent .json file first")
        latent = latent_from_json(Path(path).read_bytes(), explorer.model(name).latent_dim, name)
        return new_base(name, latent)

    return SimpleNamespace(share_link=share_link, restore_from_url=restore_from_url,
                           apply_url_state=apply_url_state, export_latent=export_latent,
                           import_latent=import_latent)
