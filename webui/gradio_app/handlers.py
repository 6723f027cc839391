"""What the Gradio app's events call: each converts widget values, calls one core method of the explorer it
was made for and returns display-ready values (the map's and sharing's own handlers are in ``latent_map`` and
``share``)."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np

from explorer.errors import RequestError
from explorer.glossary import PRIOR_LABELS, slider_label, with_tooltips
from explorer.latents import check_latent
from explorer.render import gif_bytes, grid, png_bytes
from explorer.service import Explorer
from webui.gradio_app.api import user_errors
from webui.gradio_app.face import face_html
from webui.gradio_app.outputs import write_output
from webui.wording import summary_figures, summary_headline

GIF_UPSCALE = 4  # a GIF is played as it is (players do not enlarge it): 64-px faces at 256 px, nearest


def image_file(image: np.ndarray, stem: str) -> str:
    """``image`` as a PNG file of ours, for Gradio to hand out, at the model's own size: the page enlarges it,
    sharp or smooth as the user picks (``blocks.PIXELS_JS``), and a download is the model's real output. A
    returned array would be written by Gradio to a content-named cache file, rewritten in place on every
    answer: concurrent identical answers (several people uploading one face) truncated each other's downloads.
    A file we give it is written once (``write_output``) and copied into Gradio's cache once."""
    return write_output(stem, ".png", png_bytes(image))


def app_handlers(explorer: Explorer, slider_count: int) -> SimpleNamespace:
    """The handlers of the sliders, traversal, reconstruct, interpolate, samples and evolution views, and the
    helpers the map's and sharing's handlers share with them (``new_base``, ``face_view``, ``image_file``)."""

    def face_view(name: str, base, offsets=()) -> str:
        """The slider face widget's HTML; the browser fetches the picture itself from the face route."""
        return face_html(name, check_latent(base, explorer.model(name).latent_dim), offsets)

    def new_base(name: str, latent: np.ndarray) -> list:
        """The outputs [base, face, *sliders] that make ``latent`` the slider face, every slider at zero."""
        return [latent.tolist(), face_view(name, latent), *[0.0] * slider_count]

    @user_errors
    def select_model(name: str, seed: int, temperature: float):
        """Model picked: what it is, a random base from the seed, the slider set relabelled and zeroed, and its
        figures (last: they were added after API users had the first outputs' places)."""
        directions = explorer.sliders(name)
        base = explorer.random_base(name, int(seed), float(temperature))
        updates = []
        for i in range(slider_count):
            if i < len(directions):
                updates.append(gr.Slider(value=0, label=slider_label(directions[i]), visible=True))
            else:
                updates.append(gr.Slider(value=0, visible=False))
        summary = explorer.summary(name)
        return [summary_headline(summary), base.tolist(), face_view(name, base), *updates,
                with_tooltips(summary_figures(summary))]

    def refresh_models(current: str | None):
        """Look for model folders built since the page opened. Returns the picker (the current model kept
        while it is still there) and whether the current model must be shown again (its folder was rebuilt)."""
        choices, forgotten = explorer.refresh()
        names = [name for _, name in choices]
        value = current if current in names else (names[0] if names else None)
        gr.Info(f"{len(names)} models" + (f"; {', '.join(forgotten)} loaded afresh" if forgotten else ""))
        return gr.Dropdown(choices=choices, value=value), value == current and current in forgotten

    def reselect_if_rebuilt(name: str, seed: int, temperature: float, rebuilt: bool):
        """After a refresh: the current model afresh (summary, face, sliders) if its folder was rebuilt."""
        return select_model(name, seed, temperature) if rebuilt else [gr.skip()] * (4 + slider_count)

    @user_errors
    def subject_words(name: str):
        """The labels that name what the model draws (a Fashion-MNIST model draws garments, not faces)."""
        thing = explorer.model(name).subject
        return [gr.Button(value=f"Another random {thing}"),
                gr.File(label=f"Upload a {thing} (PNG, JPEG, WebP, GIF, BMP, TIFF)"),
                gr.File(label=f"{thing.capitalize()} A"), gr.File(label=f"{thing.capitalize()} B"),
                gr.Button(value=f"A ← current slider {thing}"), gr.Button(value=f"B ← current slider {thing}"),
                gr.Gallery(label=f"Nearest encoded {thing}s to your upload")]

    @user_errors
    def random_face(name: str, seed: int, temperature: float, prior: str | None = None):
        """The face of a seed, z from ``prior`` (None: the model's default, its fitted prior where it has one)."""
        return new_base(name, explorer.random_base(name, int(seed), float(temperature), prior or None))

    @user_errors
    def next_random_face(name: str, seed: int, temperature: float, prior: str | None = None):
        """The button: the next seed's face (a new face each press, and the seed box says which)."""
        return [int(seed) + 1, *random_face(name, int(seed) + 1, temperature, prior)]

    @user_errors
    def reset(name: str, base):
        """Every slider back to zero, and the face with them (new HTML: see face_html)."""
        return [face_view(name, base), *[0.0] * slider_count]

    @user_errors
    def reconstruct(name: str, path):
        result = explorer.reconstruct(name, path)
        message = f"MSE {result.mse:.4f} · PSNR {result.psnr:.2f} dB — now the sliders edit this face"
        return [image_file(result.original, f"original-{name}"),
                image_file(result.reconstruction, f"reconstruction-{name}"), message, *new_base(name, result.latent)]

    def end_face(name: str, latent: np.ndarray, given: np.ndarray | None = None) -> list:
        """An interpolation end: its latent, and what the user sees of it: the image they gave (as the model
        takes it in) beside the model's drawing of it, or the drawing alone for the current slider face."""
        drawn = explorer.model(name).decode(latent)
        shown = drawn if given is None else grid(np.stack([given, drawn]), columns=2)
        return [latent.tolist(), image_file(shown, f"end-{name}")]

    @user_errors
    def current_latent(name: str, base, *offsets):
        return end_face(name, explorer.slider_latent(name, base, list(offsets)))

    @user_errors
    def encode_upload(name: str, path):
        result = explorer.reconstruct(name, path)
        return end_face(name, result.latent, result.original)

    @user_errors
    def traversal(name: str, base, steps: int, *offsets):
        """Every slider swept from −3σ to +3σ from the current face (the others held), a row per slider."""
        return image_file(explorer.traversal_image(name, base, list(offsets), int(steps)), f"traversal-{name}")

    @user_errors
    def interpolate_faces(name: str, start, end, frames: int, mode: str):
        if start is None or end is None:
            thing = explorer.model(name).subject
            raise RequestError(f"set both ends first: upload two {thing}s or use the current slider {thing}")
        faces = explorer.interpolation(name, start, end, int(frames), mode)
        gif_path = write_output(f"interpolation-{name}", ".gif", gif_bytes(faces, upscale=GIF_UPSCALE))
        strip = image_file(grid(faces, columns=len(faces) if len(faces) <= 12 else 8), f"strip-{name}")
        return strip, gif_path

    @user_errors
    def sample_faces(name: str, seed: int, count: int, temperature: float, prior: str | None = None):
        """The samples as a gallery, and their latents kept for a click to load one into the sliders."""
        faces, latents, captions = explorer.samples(name, int(seed), int(count), float(temperature), prior or None)
        return ([(image_file(face, f"sample-{name}"), caption) for face, caption in zip(faces, captions)],
                {"model": name, "latents": latents.tolist()})

    @user_errors
    def prior_options(name: str):
        """Where this model's random faces and samples come from: its choices (a fitted prior only where the
        folder has one), set to the model's default (the fitted prior where there is one)."""
        return gr.Radio(choices=[(PRIOR_LABELS[p], p) for p in explorer.priors(name)],
                        value=explorer.default_prior(name))

    @user_errors
    def load_sample(name: str, shown, evt: gr.SelectData):
        """A sample clicked: its latent becomes the slider base (and so an interpolation end, a traversal start)."""
        if not shown or shown.get("model") != name:
            raise RequestError(f"draw samples of {name} first")
        latent = check_latent(shown["latents"][int(evt.index)], explorer.model(name).latent_dim)
        return [*new_base(name, latent), f"Sample {int(evt.index) + 1} is now the slider face"]

    @user_errors
    def evolution_row(name: str, epoch: int):
        return image_file(explorer.evolution_row(name, int(epoch)), f"evolution-{name}")

    @user_errors
    def evolution_range(name: str):
        found = explorer.evolution(name)
        epochs = found[1] if found else [0]
        return gr.Slider(minimum=min(epochs), maximum=max(epochs), value=max(epochs), step=1)

    handlers = {name: value for name, value in locals().items() if callable(value)}  # every function above
    return SimpleNamespace(slider_count=slider_count, image_file=image_file, **handlers)
