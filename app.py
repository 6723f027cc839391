"""anime-latent-explorer: the Gradio app (Hugging Face Spaces entry point).

A thin layout over ``explorer.service.Explorer``: every handler converts widget values, calls one core
method and returns display-ready values. Each user operation is a named API endpoint.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from app_api import add_api_endpoints, user_errors
from app_face import face_html, face_route, face_widget
from app_map import MAP_LOADING_JS, hover_server, latent_map, map_handlers
from app_outputs import MAX_AGE_S, write_output
from app_share import share_handlers
from explorer.errors import ExplorerInputError, RequestError
from explorer.glossary import SLIDER_WORDS, glossary_lines, slider_label, with_tooltips
from explorer.latents import SLIDER_SPAN, check_latent
from explorer.render import gif_bytes, grid, png_bytes
from explorer.service import ATTRIBUTE_SLIDERS, PRIOR_LABELS, TOP_SLIDERS, Explorer
from explorer.uploads import MAX_UPLOAD_BYTES

SLIDER_COUNT = TOP_SLIDERS + ATTRIBUTE_SLIDERS
# Concurrency, set on purpose (issue 35). Slider drags never queue: the face route runs in Starlette's thread
# pool. Every other event costs one or a few decodes (milliseconds; a VAE upload too): each runs up to 8 at once,
# so 50 people's uploads do not wait in one line behind 4. Sweeping every slider (up to 240 faces) and the
# interpolation GIF share 2 places, so they cannot take the cores from the sliders; a DCGAN upload's
# 40-step refinement is limited the same way inside the model (explorer.model.HEAVY_WORK).
CONCURRENT_EVENTS = 8
HEAVY = {"concurrency_id": "heavy", "concurrency_limit": 2}
UPSCALE = 4  # 64-px faces shown at 256 px, nearest-neighbour
explorer = Explorer()
point_face = hover_server(lambda: explorer)  # the map's hover: `python app.py --data` replaces the explorer


def image_file(image: np.ndarray, stem: str, upscale: int = UPSCALE) -> str:
    """``image`` enlarged (nearest) as a PNG file of ours, for Gradio to hand out. A returned array would be
    written by Gradio to a content-named cache file, rewritten in place on every answer: concurrent identical
    answers (several people uploading one face) truncated each other's downloads. A file we give it is written
    once (``write_output``) and copied into Gradio's cache once."""
    return write_output(stem, ".png", png_bytes(image, upscale))


def face_view(name: str, base, offsets=()) -> str:
    """The slider face widget's HTML; the browser fetches the picture itself from the face route."""
    return face_html(name, check_latent(base, explorer.model(name).latent_dim), offsets)


def new_base(name: str, latent: np.ndarray) -> list:
    """The outputs [base, face, *sliders] that make ``latent`` the slider face, every slider at zero."""
    return [latent.tolist(), face_view(name, latent), *[0.0] * SLIDER_COUNT]


def render_face(name: str, base: np.ndarray, offsets: list[float]) -> np.ndarray:
    return explorer.face(name, base, offsets)[0]


# ── handlers ────────────────────────────────────────────────────────────────────────────────────────
@user_errors
def select_model(name: str, seed: int, temperature: float):
    """Model picked: its summary, a random base from the seed, the slider set relabelled and zeroed."""
    directions = explorer.sliders(name)
    base = explorer.random_base(name, int(seed), float(temperature))
    updates = []
    for i in range(SLIDER_COUNT):
        if i < len(directions):
            d = directions[i]
            updates.append(gr.Slider(value=0, label=slider_label(d), visible=True))
        else:
            updates.append(gr.Slider(value=0, visible=False))
    return [with_tooltips(explorer.summary(name)), base.tolist(), face_view(name, base), *updates]


@user_errors
def subject_words(name: str):
    """The labels that name what the model draws (a Fashion-MNIST model draws garments, not faces)."""
    thing = explorer.model(name).subject
    return [gr.Button(value=f"Another random {thing}"),
            gr.File(label=f"Upload a {thing} (PNG, JPEG, WebP, GIF, BMP, TIFF)"),
            gr.File(label=f"{thing.capitalize()} A"), gr.File(label=f"{thing.capitalize()} B"),
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
def reconstruct(name: str, path):
    result = explorer.reconstruct(name, path)
    message = f"MSE {result.mse:.4f} · PSNR {result.psnr:.2f} dB — now the sliders edit this face"
    return [image_file(result.original, f"original-{name}"), image_file(result.reconstruction, f"reconstruction-{name}"),
            message, *new_base(name, result.latent)]


def end_face(name: str, latent: np.ndarray) -> list:
    """An interpolation end: its latent, and the face it stands for, so the user sees what they gave."""
    return [latent.tolist(), image_file(explorer.model(name).decode(latent), f"end-{name}", 2)]


@user_errors
def current_latent(name: str, base, *offsets):
    return end_face(name, explorer.slider_latent(name, base, list(offsets)))


@user_errors
def traversal(name: str, base, steps: int, *offsets):
    """Every slider swept from −3σ to +3σ from the current face (the others held), a row per slider."""
    return image_file(explorer.traversal_image(name, base, list(offsets), int(steps)), f"traversal-{name}", 1)


@user_errors
def encode_upload(name: str, path):
    return end_face(name, explorer.reconstruct(name, path).latent)


@user_errors
def interpolate_faces(name: str, start, end, frames: int, mode: str):
    if start is None or end is None:
        raise RequestError("set both ends first: upload two faces or use the current slider face")
    faces = explorer.interpolation(name, start, end, int(frames), mode)
    gif_path = write_output(f"interpolation-{name}", ".gif", gif_bytes(faces, upscale=UPSCALE))
    strip = image_file(grid(faces, columns=len(faces)), f"strip-{name}") if len(faces) <= 12 else \
        image_file(grid(faces, columns=8), f"strip-{name}", 1)
    return strip, gif_path


@user_errors
def sample_faces(name: str, seed: int, count: int, temperature: float, prior: str | None = None):
    """The samples as a gallery, and their latents kept for a click to load one into the sliders."""
    faces, latents, captions = explorer.samples(name, int(seed), int(count), float(temperature), prior or None)
    return ([(image_file(face, f"sample-{name}", 2), caption) for face, caption in zip(faces, captions)],
            {"model": name, "latents": latents.tolist()})


@user_errors
def prior_options(name: str):
    """Where this model's random faces and samples come from: its choices (a fitted prior only where the folder
    has one), set to the model's default (the fitted prior where there is one)."""
    return gr.Radio(choices=[(PRIOR_LABELS[p], p) for p in explorer.priors(name)], value=explorer.default_prior(name))


@user_errors
def load_sample(name: str, shown, evt: gr.SelectData):
    """A sample clicked: its latent becomes the slider base (and so an interpolation end, a traversal start)."""
    if not shown or shown.get("model") != name:
        raise RequestError(f"draw samples of {name} first")
    latent = check_latent(shown["latents"][int(evt.index)], explorer.model(name).latent_dim)
    return [*new_base(name, latent), f"Sample {int(evt.index) + 1} is now the slider face"]


@user_errors
def evolution_row(name: str, epoch: int):
    return image_file(explorer.evolution_row(name, int(epoch)), f"evolution-{name}", 2)


@user_errors
def evolution_range(name: str):
    found = explorer.evolution(name)
    epochs = found[1] if found else [0]
    return gr.Slider(minimum=min(epochs), maximum=max(epochs), value=max(epochs), step=1)


# The map's handlers: its controls, drawing, clicks and selections, and an upload's place on it.
maps = map_handlers(lambda: explorer, new_base, image_file, SLIDER_COUNT)


def cleared_views() -> list:
    """A model switch empties every view that showed the previous model's results, uploads included: their
    faces came from another model and their latents (interpolation ends, samples) fit no other."""
    return [None] * 18


# ── layout ──────────────────────────────────────────────────────────────────────────────────────────
# Figures stay on one line (a wrapped "0.50|7" misreads); the model and data columns take the wrapping.
# The face stays in sight while the sliders move: its column sticks to the top of the window (on a phone,
# where the columns stack, a smaller face sticks above the sliders scrolling under it). Gradio's container clips
# with overflow: hidden, which makes it the box a sticky element sticks in; clip cuts the same without that.
# z-index 50: above the slider labels (Gradio draws them at 40).
CSS = ("img { image-rendering: pixelated; }\n"
       ".gradio-container { overflow: clip !important; }\n"
       "#face-column { position: sticky; top: 8px; align-self: flex-start; z-index: 50; "
       "background: var(--body-background-fill, #fff); }\n"
       "@media (max-width: 640px) { #face-column { top: 0; padding-bottom: 6px; "
       "box-shadow: 0 6px 8px -6px rgba(0,0,0,.25); } "
       "#face-column img.face { width: 160px; height: 160px; } }\n"
       "#results th:not(:first-child):not(:last-child), #results td:not(:first-child):not(:last-child) "
       "{ white-space: nowrap; }")


def build_demo() -> gr.Blocks:
    choices = explorer.model_choices()
    names = [name for _, name in choices]
    first = names[0] if names else None
    # delete_cache: Gradio's copies of the files handed out go after an hour, as our originals do.
    with gr.Blocks(title="anime-latent-explorer", delete_cache=(MAX_AGE_S, MAX_AGE_S)) as demo:
        gr.Markdown("# anime-latent-explorer\nDrag a model's latent sliders, reconstruct and blend your own images, "
                    "and browse the map of everything it encoded: VAEs and a DCGAN trained on 58k anime faces, and "
                    "two VAEs trained on Fashion-MNIST garments.")
        if not names:
            gr.Markdown(f"**No models found in `{explorer.root}`.** Point the app at a folder of checkpoint "
                        f"folders with `--checkpoints DIR` or `ANIME_EXPLORER_CHECKPOINTS`.")
            return demo
        with gr.Row():
            model_name = gr.Dropdown(choices, value=first, label="Model", scale=2,
                                     info=explorer.welcome())
            seed = gr.Number(value=42, precision=0, label="Seed", scale=1)
            temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="Temperature (truncation < 1)", scale=2)
            # No value built in: an API call that names no prior gets the model's default; the page shows it.
            prior_choice = gr.Radio([(label, key) for key, label in PRIOR_LABELS.items()], value=None,
                                    label="Draw z from", scale=1, elem_id="prior-choice",
                                    info="a VAE's fitted prior: a mixture fitted to its encoded training images")
        summary = gr.Markdown(elem_id="summary")  # every figure's meaning on hover, and all of them below
        with gr.Accordion("What the figures mean", open=False):
            gr.Markdown(glossary_lines())
        base = gr.State(None)

        with gr.Tab("Sliders"):
            with gr.Row():
                with gr.Column(scale=1, elem_id="face-column"):
                    face = face_widget(SLIDER_COUNT)
                    with gr.Row():
                        # min_width: both fit side by side on a phone, so the sticky face stays short.
                        random_button = gr.Button("Another random face", elem_id="another-face", min_width=100)
                        reset_button = gr.Button("Reset sliders", min_width=100)
                with gr.Column(scale=2):
                    gr.Markdown(SLIDER_WORDS, elem_id="slider-words")
                    sliders = [gr.Slider(-SLIDER_SPAN, SLIDER_SPAN, value=0, step=0.05, label=f"direction {i + 1}", visible=False,
                                         elem_id=f"slider-{i}") for i in range(SLIDER_COUNT)]
        with gr.Tab("Traversal"):
            gr.Markdown("Each slider swept from −3σ to +3σ, starting from the face the sliders make now, the "
                        "others held where they are: a row per slider, to see what each direction changes "
                        "and whether it changes one thing only.")
            with gr.Row():
                steps = gr.Slider(3, 15, value=7, step=1, label="Steps per row")
                sweep_button = gr.Button("Sweep every slider", variant="primary")
            traversal_view = gr.Image(label="Traversal (−3σ … +3σ)", interactive=False, format="png",
                                      elem_id="traversal")
        with gr.Tab("Reconstruct"):
            with gr.Row():
                # gr.File, not gr.Image: the upload reaches our own validation, which names what is wrong.
                upload = gr.File(label="Upload a face (PNG, JPEG, WebP, GIF, BMP, TIFF)", type="filepath",
                                 elem_id="upload")
                original = gr.Image(label="As the model sees it", interactive=False, height=280, format="png")
                reconstruction = gr.Image(label="Reconstruction", interactive=False, height=280, format="png",
                                          elem_id="reconstruction")
            recon_info = gr.Markdown()
        with gr.Tab("Interpolate"):
            start, end = gr.State(None), gr.State(None)
            with gr.Row():
                upload_a = gr.File(label="Face A", type="filepath", elem_id="upload-a")
                end_a = gr.Image(label="A, as the model draws it", interactive=False, height=160, format="png",
                                 elem_id="end-a")
                upload_b = gr.File(label="Face B", type="filepath", elem_id="upload-b")
                end_b = gr.Image(label="B, as the model draws it", interactive=False, height=160, format="png",
                                 elem_id="end-b")
            with gr.Row():
                use_a = gr.Button("A ← current slider face")
                use_b = gr.Button("B ← current slider face")
                frames = gr.Slider(2, 32, value=8, step=1, label="Frames")
                mode = gr.Radio(["slerp", "lerp"], value="slerp", label="Path")
                go = gr.Button("Interpolate", variant="primary")
            strip = gr.Image(label="A → B", interactive=False, format="png", elem_id="strip")
            gif = gr.File(label="Animated GIF")
        with gr.Tab("Map"):
            with gr.Row():
                map_name = gr.Radio(["umap", "tsne", "pca"], value="umap", label="Map", scale=2)
                colour_by = gr.Dropdown(["cluster"], value="cluster", label="Colour by", scale=1)
            gr.Markdown("Hover a point to see how the model draws it · click to load it into the sliders · lasso "
                        "or box to select (toolbar) · your upload appears as a star.")
            map_view = latent_map(point_face)
            map_info = gr.Markdown(elem_id="map-info")
            selected = gr.Gallery(label="Selected faces", columns=8, height=260, elem_id="selected")
            neighbours = gr.Gallery(label="Nearest neighbours of your uploaded face", columns=8, height=160)
        with gr.Tab("Samples") as samples_tab:
            with gr.Row():
                count = gr.Slider(1, 64, value=16, step=1, label="Faces")
                sample_button = gr.Button("Sample", variant="primary")
            samples = gr.Gallery(label="Samples: click a face to load it into the sliders", columns=8,
                                 allow_preview=False, elem_id="samples", format="png")
            sample_info = gr.Markdown(elem_id="sample-info")
            shown_samples = gr.State(None)
            last_epoch = max([max(found[1]) for n in names if (found := explorer.evolution(n))] or [1])
            epoch = gr.Slider(0, last_epoch, value=last_epoch, step=1, label="Training evolution: epoch")
            evolution = gr.Image(label="The same latents after this epoch", interactive=False, format="png")
        with gr.Tab("Results"):
            gr.Markdown(explorer.results(), elem_id="results")
        with gr.Tab("Share"):
            with gr.Row():
                export_button = gr.Button("Export current latent (JSON)")
                exported = gr.File(label="Latent file")
                imported = gr.File(label="Import a latent file", file_types=[".json"], type="filepath")
            link_button = gr.Button("Make a link to this face")
            link = gr.Textbox(label="Link to this face: opens this model, seed and sliders", buttons=["copy"],
                              interactive=False, elem_id="share-link")
        pending = gr.State(None)
        share = share_handlers(lambda: explorer, new_base, face_view, SLIDER_COUNT)

        # Every operation is a named endpoint; slider drags send only their last value.
        model_outputs = [summary, base, face, *sliders]
        model_name.change(select_model, [model_name, seed, temperature], model_outputs, api_name="select_model")
        demo.load(share.restore_from_url, None, [model_name, seed, temperature, pending], api_name=False).then(
            select_model, [model_name, seed, temperature], model_outputs, api_name=False).then(
            share.apply_url_state, [model_name, pending], [base, face, *sliders], api_name=False)
        # Slider drags never come here: the face widget's script fetches each image from the face route.
        # /random: the face of a given seed (an API user's reproducible draw). The button draws the next seed, and
        # a seed typed or a temperature moved by the user changes the face at once.
        gr.on([seed.input, temperature.release, prior_choice.input], random_face,
              [model_name, seed, temperature, prior_choice], [base, face, *sliders], api_name="random")
        random_button.click(next_random_face, [model_name, seed, temperature, prior_choice], [seed, base, face, *sliders],
                            api_name=False)
        reset_button.click(lambda name, b: [user_errors(face_view)(name, b), *[0.0] * SLIDER_COUNT], [model_name, base],
                           [face, *sliders], api_name="reset")
        sweep_button.click(traversal, [model_name, base, steps, *sliders], traversal_view, api_name="traversal",
                           **HEAVY)
        upload.upload(reconstruct, [model_name, upload],
                      [original, reconstruction, recon_info, base, face, *sliders], api_name="reconstruct"
                      ).success(maps.place_upload, [model_name, base, map_name, colour_by], [map_view, neighbours],
                                api_name="place_upload")
        model_name.change(maps.controls, model_name, [map_name, colour_by, map_view], api_name=False).then(
            maps.show, [model_name, map_name, colour_by], map_view, api_name=False)
        demo.load(maps.controls, model_name, [map_name, colour_by, map_view], api_name=False).then(
            maps.show, [model_name, map_name, colour_by], map_view, api_name=False)
        # A model, map or colouring the user picks: the old map goes at once, in the browser (a click on it would
        # be stale, and the server's answer may wait in the queue), then the new one comes. On `input`, not
        # `change`: Gradio runs a change's script only after the other change handlers have started (≈ 2.7 s
        # on a switch, measured), when the new map may already have been drawn.
        gr.on([model_name.input, map_name.input, colour_by.input], None, model_name, map_view, js=MAP_LOADING_JS,
              api_name=False)
        gr.on([map_name.input, colour_by.input], maps.show, [model_name, map_name, colour_by], map_view,
              api_name="map_data")
        map_view.select(maps.select, model_name, [base, face, *sliders, selected, map_info], api_name=False)
        add_api_endpoints(lambda: explorer, SLIDER_COUNT)  # /face, /sliders, /map_point, /map_selection
        upload_a.upload(encode_upload, [model_name, upload_a], [start, end_a], api_name="encode_a")
        upload_b.upload(encode_upload, [model_name, upload_b], [end, end_b], api_name="encode_b")
        use_a.click(current_latent, [model_name, base, *sliders], [start, end_a], api_name=False)
        use_b.click(current_latent, [model_name, base, *sliders], [end, end_b], api_name=False)
        go.click(interpolate_faces, [model_name, start, end, frames, mode], [strip, gif], api_name="interpolate", **HEAVY)
        # Opening the tab or choosing where z comes from draws at once: the two priors compare side by side.
        gr.on([sample_button.click, prior_choice.input, samples_tab.select], sample_faces,
              [model_name, seed, count, temperature, prior_choice], [samples, shown_samples], api_name="samples")
        model_name.change(cleared_views, None, [traversal_view, upload, original, reconstruction, recon_info, upload_a,
                                                upload_b, start, end, end_a, end_b, strip, gif, selected,
                                                neighbours, map_info,
                                                exported, link], api_name=False)
        # The samples are drawn again for the new model (cheap: one decode), after its prior choices are set.
        model_name.change(prior_options, model_name, prior_choice, api_name=False).then(
            sample_faces, [model_name, seed, count, temperature, prior_choice], [samples, shown_samples], api_name=False)
        demo.load(prior_options, model_name, prior_choice, api_name=False)
        samples.select(load_sample, [model_name, shown_samples], [base, face, *sliders, sample_info], api_name=False)
        gr.on([demo.load, model_name.change], subject_words, model_name,
              [random_button, upload, upload_a, upload_b, neighbours], api_name=False)
        gr.on([demo.load, model_name.change], evolution_range, model_name, epoch, api_name=False)
        epoch.change(evolution_row, [model_name, epoch], evolution, api_name="evolution",
                     trigger_mode="always_last", show_progress="hidden", queue=False)
        link_button.click(share.share_link, [model_name, seed, temperature, base, *sliders], link, api_name="share_link")
        export_button.click(share.export_latent, [model_name, base, *sliders], exported, api_name="export_latent")
        imported.upload(share.import_latent, [model_name, imported], [base, face, *sliders], api_name="import_latent")
    return demo


demo = build_demo()


def launch(blocks: gr.Blocks, **options):
    """Serve ``blocks`` with the face route beside Gradio's own (``python app.py`` and the tests both use this)."""
    route = face_route(render_face, lambda name: explorer.model(name).latent_dim, SLIDER_COUNT)
    # max_file_size: Gradio refuses a file over the core's image limit before writing it to disk.
    return blocks.queue(default_concurrency_limit=CONCURRENT_EVENTS).launch(css=CSS, app_kwargs={"routes": [route]},
                                                            max_file_size=MAX_UPLOAD_BYTES, **options)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve the anime-latent-explorer app.")
    parser.add_argument("--checkpoints", type=Path, help=f"folder of model folders (default: {explorer.root})")
    parser.add_argument("--port", type=int, default=None, help="port (default: Gradio's, 7860)")
    parser.add_argument("--data", action="append", default=None, metavar="PATH",
                        help="local copy of the dataset (folder, .zip or fashion-mnist[:DIR]; repeatable): "
                             "the map shows each point's original image beside its decoding")
    args = parser.parse_args()
    if args.checkpoints or args.data:
        try:
            explorer = Explorer(args.checkpoints, args.data)
        except ExplorerInputError as error:
            parser.exit(2, f"error: {error}\n")
        demo = build_demo()
    launch(demo, server_port=args.port)
