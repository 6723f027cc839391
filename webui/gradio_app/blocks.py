"""The Gradio app's page: ``build_demo(explorer)`` lays out the tabs and wires each event to its handler.

Every user operation is a named API endpoint; the handlers themselves live in ``handlers`` (and, for the map
and sharing, in ``latent_map`` and ``share``).
"""

from __future__ import annotations

import gradio as gr

from explorer.glossary import PRIOR_LABELS, SLIDER_WORDS, glossary_lines
from explorer.latents import SLIDER_SPAN
from explorer.service import ATTRIBUTE_SLIDERS, TOP_SLIDERS, Explorer
from webui.gradio_app.api import add_api_endpoints
from webui.gradio_app.face import face_widget
from webui.gradio_app.handlers import app_handlers
from webui.gradio_app.latent_map import MAP_LOADING_JS, hover_server, latent_map, map_handlers
from webui.gradio_app.outputs import MAX_AGE_S, own_gradio_cache
from webui.gradio_app.share import share_handlers
from webui.wording import results_markdown

SLIDER_COUNT = TOP_SLIDERS + ATTRIBUTE_SLIDERS
# Concurrency, set on purpose (issue 35). Slider drags never queue: the face route runs in Starlette's thread
# pool. Every other event costs one or a few decodes (milliseconds; a VAE upload too): each runs up to 8 at once,
# so 50 people's uploads do not wait in one line behind 4. Sweeping every slider (up to 240 faces) and the
# interpolation GIF share 2 places, so they cannot take the cores from the sliders; a DCGAN upload's
# 40-step refinement is limited the same way inside the model (explorer.model.HEAVY_WORK).
CONCURRENT_EVENTS = 8
PICTURE = {"elem_classes": ["face-picture"]}  # a picture of faces, enlarged to its box (see CSS)
PIXELS_JS = "(choice) => { document.body.classList.toggle('smooth-pixels', choice === 'smooth'); }"
HEAVY = {"concurrency_id": "heavy", "concurrency_limit": 2}


# ── layout ──────────────────────────────────────────────────────────────────────────────────────────
# Figures stay on one line (a wrapped "0.50|7" misreads); the model and data columns take the wrapping.
# The face stays in sight while the sliders move: its column sticks to the top of the window (on a phone,
# where the columns stack, a smaller face sticks above the sliders scrolling under it). Gradio's container clips
# with overflow: hidden, which makes it the box a sticky element sticks in; clip cuts the same without that.
# z-index 50: above the slider labels (Gradio draws them at 40); the tabs' overflow menu (where a phone keeps the
# tabs that do not fit) goes above it, or it opens under the face and a phone user cannot reach those tabs.
# The results table is wider than a phone and scrolls sideways; its wrapping columns keep a width there, or the
# table squeezes them to a word a line and each row grows taller than the screen.
# Pictures come at the model's own size (64 px) and are enlarged here: pixelated, or smooth where the user picks
# it (PIXELS_JS sets the class on the page, so every picture follows at once, the slider face and hover too).
CSS = ("img { image-rendering: pixelated; }\n"
       ".smooth-pixels img { image-rendering: auto !important; }\n"
       ".face-picture img { width: 100% !important; height: 100% !important; object-fit: contain !important; }\n"
       ".gradio-container { overflow: clip !important; }\n"
       "#face-column { position: sticky; top: 8px; align-self: flex-start; z-index: 50; "
       "background: var(--body-background-fill, #fff); }\n"
       ".overflow-dropdown { z-index: 60 !important; }\n"
       "@media (max-width: 640px) { #face-column { top: 0; padding-bottom: 6px; "
       "box-shadow: 0 6px 8px -6px rgba(0,0,0,.25); } "
       "#face-column img.face { width: 160px; height: 160px; } }\n"
       "#results th:not(:first-child):not(:last-child), #results td:not(:first-child):not(:last-child) "
       "{ white-space: nowrap; }\n"
       "#results td:first-child { min-width: 12em; } #results td:last-child { min-width: 18em; }")


def build_demo(explorer: Explorer) -> gr.Blocks:
    """The page over ``explorer``; serve it with ``webui.gradio_app.launch(demo, explorer)``."""
    own_gradio_cache()  # before any component: each reads the cache's place when it is made
    h = app_handlers(explorer, SLIDER_COUNT)
    maps = map_handlers(explorer, h)  # the map's controls, drawing, clicks and selections, an upload's place
    choices = explorer.model_choices()
    names = [name for _, name in choices]
    first = names[0] if names else None
    # delete_cache: Gradio's copies of the files handed out go after an hour, as our originals do.
    # analytics_enabled=False: the app sends nothing about its use to anyone (Gradio's usage telemetry is on by
    # default otherwise).
    with gr.Blocks(title="anime-latent-explorer", delete_cache=(MAX_AGE_S, MAX_AGE_S),
                   analytics_enabled=False) as demo:
        gr.Markdown("# anime-latent-explorer\nDrag a model's latent sliders, reconstruct and blend your own images, "
                    "and browse the map of everything it encoded: VAEs and a DCGAN trained on 58k anime faces, and "
                    "two VAEs trained on Fashion-MNIST garments.")
        if not names:
            gr.Markdown(f"**No models found in `{explorer.root}`.** Point the app at a folder of checkpoint "
                        f"folders with `--checkpoints DIR` or `ANIME_EXPLORER_CHECKPOINTS`.")
            return demo
        with gr.Row():
            # min_width: on a phone the picker takes the whole width, so a model's name and phrase can be read.
            model_name = gr.Dropdown(choices, value=first, label="Model", scale=2, min_width=300,
                                     info=explorer.welcome())
            # A model built while the app runs (python -m trainer build) appears without a restart.
            refresh = gr.Button("↻ Refresh models", size="sm", scale=0, min_width=120, elem_id="refresh-models")
            seed = gr.Number(value=42, precision=0, label="Seed", scale=1)
            temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="Temperature (truncation < 1)", scale=2)
            # No value built in: an API call that names no prior gets the model's default; the page shows it.
            prior_choice = gr.Radio([(label, key) for key, label in PRIOR_LABELS.items()], value=None,
                                    label="Draw z from", scale=1, elem_id="prior-choice",
                                    info="a VAE's fitted prior: a mixture fitted to its encoded training images")
            # Pictures come at the model's own size; the page enlarges them, as the model's pixels or smooth.
            pixels = gr.Radio([("sharp", "sharp"), ("smooth", "smooth")], value="sharp", label="Enlarged pixels",
                              scale=1, elem_id="pixels", info="sharp: the model's own pixels")
        # What the model is in a line; its figures folded away (on a phone they pushed the face 1,250 px down).
        summary = gr.Markdown(elem_id="summary")
        with gr.Accordion("This model's figures, and what they mean", open=False, elem_id="figures"):
            figures = gr.Markdown(elem_id="model-figures")  # every figure's meaning on hover, and all of them below
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
            traversal_view = gr.Image(label="Traversal (−3σ … +3σ)", interactive=False, format="png", **PICTURE,
                                      elem_id="traversal")
        with gr.Tab("Reconstruct"):
            with gr.Row():
                # gr.File, not gr.Image: the upload reaches our own validation, which names what is wrong.
                upload = gr.File(label="Upload a face (PNG, JPEG, WebP, GIF, BMP, TIFF)", type="filepath",
                                 elem_id="upload")
                original = gr.Image(label="As the model sees it", interactive=False, height=384, format="png", **PICTURE)
                reconstruction = gr.Image(label="Reconstruction", interactive=False, height=384, format="png", **PICTURE,
                                          elem_id="reconstruction")
            recon_info = gr.Markdown()
        with gr.Tab("Interpolate"):
            start, end = gr.State(None), gr.State(None)
            with gr.Row():
                upload_a = gr.File(label="Face A", type="filepath", elem_id="upload-a")
                end_a = gr.Image(label="A (given · as the model draws it)", interactive=False, height=200, format="png", **PICTURE,
                                 elem_id="end-a")
                upload_b = gr.File(label="Face B", type="filepath", elem_id="upload-b")
                end_b = gr.Image(label="B (given · as the model draws it)", interactive=False, height=200, format="png", **PICTURE,
                                 elem_id="end-b")
            with gr.Row():
                use_a = gr.Button("A ← current slider face")
                use_b = gr.Button("B ← current slider face")
                frames = gr.Slider(2, 32, value=8, step=1, label="Frames")
                mode = gr.Radio(["slerp", "lerp"], value="slerp", label="Path")
                go = gr.Button("Interpolate", variant="primary")
            # 160 px high: 8 frames of a 28 px garment fill the row (at their own size the strip was 28 px high).
            strip = gr.Image(label="A → B", interactive=False, height=160, format="png", elem_id="strip", **PICTURE)
            gif = gr.File(label="Animated GIF")
        with gr.Tab("Map"):
            with gr.Row():
                map_name = gr.Radio(["umap", "tsne", "pca"], value="umap", label="Map", scale=2)
                colour_by = gr.Dropdown(["cluster"], value="cluster", label="Colour by", scale=1)
            gr.Markdown("Hover a point to see how the model draws it · click to load it into the sliders · lasso "
                        "or box to select (toolbar) · your upload appears as a star.")
            map_view = latent_map(hover_server(explorer))
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
            evolution = gr.Image(label="The same latents after this epoch", interactive=False, format="png", **PICTURE)
        with gr.Tab("Results"):
            gr.Markdown(results_markdown(explorer.results()), elem_id="results")
        with gr.Tab("Share"):
            with gr.Row():
                export_button = gr.Button("Export current latent (JSON)")
                exported = gr.File(label="Latent file")
                imported = gr.File(label="Import a latent file", file_types=[".json"], type="filepath")
            link_button = gr.Button("Make a link to this face")
            link = gr.Textbox(label="Link to this face: opens this model, seed and sliders", buttons=["copy"],
                              interactive=False, elem_id="share-link")
        pending = gr.State(None)
        share = share_handlers(explorer, h)

        pixels.input(None, pixels, None, js=PIXELS_JS, api_name=False)  # the browser alone: nothing to compute
        # Every operation is a named endpoint; slider drags send only their last value.
        model_outputs = [summary, base, face, *sliders, figures]
        rebuilt = gr.State(False)
        refresh.click(h.refresh_models, model_name, [model_name, rebuilt], api_name="refresh_models").then(
            h.reselect_if_rebuilt, [model_name, seed, temperature, rebuilt], model_outputs, api_name=False)
        model_name.change(h.select_model, [model_name, seed, temperature], model_outputs, api_name="select_model")
        demo.load(share.restore_from_url, None, [model_name, seed, temperature, pending], api_name=False).then(
            h.select_model, [model_name, seed, temperature], model_outputs, api_name=False).then(
            share.apply_url_state, [model_name, pending], [base, face, *sliders], api_name=False)
        # Slider drags never come here: the face widget's script fetches each image from the face route.
        # /random: the face of a given seed (an API user's reproducible draw). The button draws the next seed, and
        # a seed typed or a temperature moved by the user changes the face at once.
        gr.on([seed.input, temperature.release, prior_choice.input], h.random_face,
              [model_name, seed, temperature, prior_choice], [base, face, *sliders], api_name="random")
        random_button.click(h.next_random_face, [model_name, seed, temperature, prior_choice], [seed, base, face, *sliders],
                            api_name=False)
        reset_button.click(h.reset, [model_name, base], [face, *sliders], api_name="reset")
        sweep_button.click(h.traversal, [model_name, base, steps, *sliders], traversal_view, api_name="traversal",
                           **HEAVY)
        upload.upload(h.reconstruct, [model_name, upload],
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
        add_api_endpoints(explorer, SLIDER_COUNT)  # /face, /sliders, /map_point, /map_selection
        upload_a.upload(h.encode_upload, [model_name, upload_a], [start, end_a], api_name="encode_a")
        upload_b.upload(h.encode_upload, [model_name, upload_b], [end, end_b], api_name="encode_b")
        use_a.click(h.current_latent, [model_name, base, *sliders], [start, end_a], api_name=False)
        use_b.click(h.current_latent, [model_name, base, *sliders], [end, end_b], api_name=False)
        go.click(h.interpolate_faces, [model_name, start, end, frames, mode], [strip, gif], api_name="interpolate", **HEAVY)
        # Opening the tab or choosing where z comes from draws at once: the two priors compare side by side.
        gr.on([sample_button.click, prior_choice.input, samples_tab.select], h.sample_faces,
              [model_name, seed, count, temperature, prior_choice], [samples, shown_samples], api_name="samples")
        # A switch empties every view that showed the previous model's results, uploads included: their faces
        # came from another model and their latents (interpolation ends, samples) fit no other.
        stale = [traversal_view, upload, original, reconstruction, recon_info, upload_a, upload_b, start, end, end_a,
                 end_b, strip, gif, selected, neighbours, map_info, exported, link]
        model_name.change(lambda: [None] * len(stale), None, stale, api_name=False)
        # The samples are drawn again for the new model (cheap: one decode), after its prior choices are set.
        model_name.change(h.prior_options, model_name, prior_choice, api_name=False).then(
            h.sample_faces, [model_name, seed, count, temperature, prior_choice], [samples, shown_samples], api_name=False)
        demo.load(h.prior_options, model_name, prior_choice, api_name=False)
        samples.select(h.load_sample, [model_name, shown_samples], [base, face, *sliders, sample_info], api_name=False)
        gr.on([demo.load, model_name.change], h.subject_words, model_name,
              [random_button, upload, upload_a, upload_b, use_a, use_b, neighbours], api_name=False)
        gr.on([demo.load, model_name.change], h.evolution_range, model_name, epoch, api_name=False)
        epoch.change(h.evolution_row, [model_name, epoch], evolution, api_name="evolution",
                     trigger_mode="always_last", show_progress="hidden", queue=False)
        link_button.click(share.share_link, [model_name, seed, temperature, base, *sliders], link, api_name="share_link")
        export_button.click(share.export_latent, [model_name, base, *sliders], exported, api_name="export_latent")
        imported.upload(share.import_latent, [model_name, imported], [base, face, *sliders], api_name="import_latent")
    return demo
