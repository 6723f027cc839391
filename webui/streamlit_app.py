"""The Streamlit front end: ``streamlit run webui/streamlit_app.py``.

Like Streamlit's own demos: ``main()`` plus one ``*_ui()`` function per page; the models live in
``st.cache_resource``, pure results in ``st.cache_data``; ``@st.fragment`` so a slider reruns only its
panel. Every operation goes through ``explorer.service.Explorer``, the same core the Gradio app uses.
"""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

from explorer.errors import ExplorerInputError, report_internal
from explorer.glossary import PRIOR_LABELS, SLIDER_WORDS, glossary_lines, slider_label, with_tooltips
from explorer.latents import SLIDER_SPAN
from explorer.map_figure import map_figure
from explorer.render import for_widget, gif_bytes, grid, png_bytes
from explorer.selection import indices_from_selection
from explorer.service import DEFAULT_ROOT, ENV_VAR, Explorer
from explorer.share import MAX_JSON_BYTES, latent_from_json, latent_to_json
from explorer.uploads import MAX_UPLOAD_BYTES
from webui.wording import results_note, results_records, summary_markdown

GIF_UPSCALE = 4  # a GIF is played as it is: 64-px faces at 256 px, nearest
FACE_PX = 384  # the slider face and the reconstruction, on screen
# The browser refuses a file over the limits the core enforces, before sending it (Streamlit's default: 200 MB).
IMAGE_MB, JSON_MB = MAX_UPLOAD_BYTES // 2**20, max(1, MAX_JSON_BYTES // 2**20)


@st.cache_resource
def get_explorer(root: str) -> Explorer:
    return Explorer(root)


@st.cache_data(max_entries=16)
def map_payload(root: str, name: str, map_name: str, colour_by: str) -> dict:
    return get_explorer(root).map_data(name, map_name, colour_by)


@st.cache_data(max_entries=8)
def traversal_grid(root: str, name: str, base: tuple, offsets: tuple, steps: int) -> np.ndarray:
    return get_explorer(root).traversal_image(name, np.array(base, np.float32), list(offsets), steps)


def picture(where, images, width: int | None = None, **options) -> None:
    """``where.image`` at the model's own size, as PNG, ``width`` px on screen (default: twice its own): the
    browser enlarges it, sharp or smooth as the user picks (``pixels_style``). PNG: Streamlit's "auto" sends
    a picture as JPEG, whose blocks blur a face's pixels."""
    images = [for_widget(i) for i in images] if isinstance(images, list) else for_widget(images)
    first = images[0] if isinstance(images, list) else images
    where.image(images, output_format="PNG", width=width or 2 * first.shape[1], **options)


def pixels_style(smooth: bool) -> str:
    """The page's enlarging of every picture: the model's own pixels (nearest), or smooth."""
    # max-width: a picture never spills out of its column (the slider face is 384 px where there is room).
    return (f"<style>[data-testid='stImage'] img, [data-testid='stFullScreenFrame'] img "
            f"{{ image-rendering: {'auto' if smooth else 'pixelated'}; }}\n"
            "[data-testid='stImageContainer'] { max-width: 100%; }</style>")


def set_base(name: str, latent: np.ndarray) -> None:
    """Make ``latent`` the slider base of model ``name`` and zero its sliders. Give it to a button as its
    ``on_click``: a callback runs before the next run draws the sliders, whereas changing a slider's state
    after it is drawn (the Sliders tab comes first) raises StreamlitAPIException."""
    st.session_state[f"base-{name}"] = latent.astype(np.float32)
    for key in [k for k in st.session_state if str(k).startswith(f"slider-{name}-")]:
        st.session_state[key] = 0.0


def base_of(explorer: Explorer, name: str) -> np.ndarray:
    key = f"base-{name}"
    if key not in st.session_state:
        st.session_state[key] = explorer.random_base(name, int(st.session_state.get("seed", 42)))
    return st.session_state[key]


def current_latent(explorer: Explorer, name: str) -> np.ndarray:
    offsets = [st.session_state.get(f"slider-{name}-{i}", 0.0) for i in range(len(explorer.sliders(name)))]
    return explorer.slider_latent(name, base_of(explorer, name), offsets)


@st.fragment
def sliders_ui(explorer: Explorer, name: str) -> None:
    # A fragment reruns alone on a drag, outside main()'s per-page guard: it carries its own.
    shown_or_error(lambda: sliders_panel(explorer, name), "sliders")


# The face stays in sight while the sliders move: its column sticks to the top of the window (on a phone,
# where Streamlit stacks the columns, it comes first and sticks above the sliders scrolling under it).
STICKY_FACE_CSS = """<style>
div[data-testid="stColumn"]:has(.st-key-slider-face) { position: sticky; top: 3.75rem; align-self: flex-start;
  z-index: 50; background: var(--background-color, #fff); }
@media (max-width: 640px) { div[data-testid="stColumn"]:has(.st-key-slider-face) { top: 2.9rem; }
  .st-key-slider-face img { width: 160px !important; } }
</style>"""


def new_seed(name: str, explorer: Explorer) -> None:
    """A seed typed or a temperature moved: the slider face of that seed, at once."""
    seed, temperature = int(st.session_state["seed"]), float(st.session_state["temperature"])
    set_base(name, explorer.random_base(name, seed, temperature, st.session_state.get(f"slider-prior-{name}")))


def next_seed(name: str, explorer: Explorer) -> None:
    """The button: the next seed's face (a new face each press, and the seed box says which)."""
    st.session_state["seed"] = int(st.session_state.get("seed", 42)) + 1
    new_seed(name, explorer)


def sliders_panel(explorer: Explorer, name: str) -> None:
    directions = explorer.sliders(name)
    st.markdown(STICKY_FACE_CSS, unsafe_allow_html=True)
    face_column, controls = st.columns([1, 2])
    with controls:
        st.number_input("Seed", value=42, step=1, key="seed", on_change=new_seed, args=(name, explorer))
        st.slider("Temperature (truncation < 1)", 0.1, 2.0, 1.0, 0.05, key="temperature", on_change=new_seed,
                  args=(name, explorer))
        priors = explorer.priors(name)  # the model's default first chosen: its fitted prior where it has one
        st.radio("Draw z from", priors, index=priors.index(explorer.default_prior(name)), format_func=PRIOR_LABELS.get,
                 horizontal=True, key=f"slider-prior-{name}", on_change=new_seed, args=(name, explorer),
                 help="a VAE's fitted prior: a mixture fitted to its encoded training images")
        st.caption(SLIDER_WORDS)
        for i, direction in enumerate(directions):
            st.slider(slider_label(direction), -SLIDER_SPAN, SLIDER_SPAN, 0.0, 0.05, key=f"slider-{name}-{i}")
    offsets = [st.session_state[f"slider-{name}-{i}"] for i in range(len(directions))]
    face, _ = explorer.face(name, base_of(explorer, name), offsets)
    with face_column, st.container(key="slider-face"):
        picture(st, face, caption=f"The {explorer.model(name).subject} the sliders make", width=FACE_PX)
        left, right = st.columns(2)
        # Each fills its half of the face's width, its words on two lines where one does not fit (they were cut).
        left.button(f"Another random {explorer.model(name).subject}", key="random", on_click=next_seed,
                    args=(name, explorer), width="stretch", wrap=True)
        right.button("Reset sliders", key="reset", on_click=set_base, args=(name, base_of(explorer, name)),
                     width="stretch", wrap=True)


def traversal_ui(explorer: Explorer, name: str) -> None:
    st.markdown("Each slider swept from −3σ to +3σ, starting from the face the sliders make now, the others held "
                "where they are: a row per slider, to see what each direction changes and whether it changes one "
                "thing only.")
    steps = st.slider("Steps per row", 3, 15, 7, key="traversal-steps")
    if st.button("Sweep every slider", key="traverse"):
        offsets = [float(st.session_state.get(f"slider-{name}-{i}", 0.0)) for i in range(len(explorer.sliders(name)))]
        # Kept until the next sweep: what was swept, not the sliders' every later move.
        st.session_state[f"traversal-{name}"] = (tuple(map(float, base_of(explorer, name))), tuple(offsets), int(steps))
    request = st.session_state.get(f"traversal-{name}")
    if request is None:
        return
    with st.spinner("Sweeping every slider…"):  # shown where the figure will appear
        image = traversal_grid(str(explorer.root), name, *request)
    picture(st, image, caption="Traversal (−3σ … +3σ): a row per slider")
    st.download_button("Download PNG", png_bytes(image), file_name=f"{name}-traversal.png", mime="image/png",
                       key="traversal-download")


def samples_ui(explorer: Explorer, name: str) -> None:
    seed, temperature = int(st.session_state.get("seed", 42)), float(st.session_state.get("temperature", 1.0))
    count = st.slider("Faces", 1, 64, 16, key="sample-count")
    priors = explorer.priors(name)
    prior = st.radio("Draw z from", priors, index=priors.index(explorer.default_prior(name)), format_func=PRIOR_LABELS.get,
                     horizontal=True, key=f"sample-prior-{name}",
                     help="a VAE's fitted prior: a mixture fitted to its encoded training images")
    faces, latents, captions = explorer.samples(name, seed, count, temperature, prior)
    st.caption(f"Seed {seed}, temperature {temperature:g} (set on the Sliders tab)")
    picture(st, list(faces), caption=captions, width=128)
    choice = st.selectbox("Sample", range(count), format_func=lambda i: captions[i], key="sample-choice")
    if st.button("Load this sample into the sliders", key="load-sample", on_click=set_base, args=(name, latents[choice])):
        st.success(f"{captions[choice]} is now the slider face.")


def reconstruct_ui(explorer: Explorer, name: str) -> None:
    upload = st.file_uploader(f"Upload a {explorer.model(name).subject}", key="reconstruct-upload",
                              max_upload_size=IMAGE_MB)
    if upload is None:
        return
    try:
        with st.spinner("Encoding and reconstructing your upload…"):  # a DCGAN refines for seconds
            result = explorer.reconstruct(name, upload.getvalue())
    except ExplorerInputError as error:
        st.error(str(error))
        return
    left, right = st.columns(2)
    picture(left, result.original, caption="As the model sees it", width=FACE_PX)
    picture(right, result.reconstruction, width=FACE_PX,
            caption=f"Reconstruction · MSE {result.mse:.4f} · PSNR {result.psnr:.2f} dB")
    st.session_state[f"upload-{name}"] = result.latent
    if st.button("Edit this face with the sliders", key="use-upload", on_click=set_base, args=(name, result.latent)):
        st.success("The sliders now start from your face.")


def interpolate_ui(explorer: Explorer, name: str) -> None:
    ends, thing = {}, explorer.model(name).subject
    columns = st.columns(2)
    for side, column in zip("AB", columns):
        upload = column.file_uploader(f"{thing.capitalize()} {side}", key=f"interp-{side}",
                                      max_upload_size=IMAGE_MB)
        key = f"interp-end-{name}-{side}"  # (latent, what the end shows, what it is)
        if column.button(f"{side} ← current slider {thing}", key=f"interp-use-{side}"):
            latent = current_latent(explorer, name)
            st.session_state[key] = (latent, explorer.model(name).decode(latent), f"the current slider {thing}")
        if upload is not None:
            try:
                with column, st.spinner(f"Encoding {side}…"):
                    result = explorer.reconstruct(name, upload.getvalue())
            except ExplorerInputError as error:
                column.error(str(error))
            else:  # what the user gave (as the model takes it in) beside the model's drawing of it
                shown = grid(np.stack([result.original, explorer.model(name).decode(result.latent)]), columns=2)
                st.session_state[key] = (result.latent, shown, "your upload · as the model draws it")
        end = st.session_state.get(key)
        ends[side] = None if end is None else end[0]
        if end is not None:
            picture(column, end[1], caption=f"{side}: {end[2]}")
    frames = st.slider("Frames", 2, 32, 8, key="frames")
    mode = st.radio("Path", ["slerp", "lerp"], horizontal=True, key="mode")
    if ends["A"] is None or ends["B"] is None:
        st.info(f"Set both ends: upload two {thing}s, or take the current slider {thing}.")
        return
    with st.spinner("Interpolating…"):
        faces = explorer.interpolation(name, ends["A"], ends["B"], int(frames), mode)
    picture(st, grid(faces, columns=min(len(faces), 8)), caption="A → B")
    st.download_button("Download the GIF", gif_bytes(faces, upscale=GIF_UPSCALE), file_name="interpolation.gif",
                       mime="image/gif", key="gif")


def map_ui(explorer: Explorer, name: str) -> None:
    maps, colourings = explorer.map_options(name)
    left, right = st.columns(2)
    map_name = left.radio("Map", maps, horizontal=True, key="map-name")
    colour_by = right.selectbox("Colour by", colourings, key="colour-by")
    with st.spinner(f"Drawing the map of {name}…"):  # the first time per model: seconds for 58k points
        payload = map_payload(str(explorer.root), name, map_name, colour_by)
    upload = st.session_state.get(f"upload-{name}")
    placed = explorer.placement(name, upload, map_name) if upload is not None else None
    # A star among 58k points can be hard to find: the toggle centres the view on it.
    focus = bool(placed) and st.toggle("Show my face: zoom to the star", key="map-focus")
    figure = map_figure(payload, (placed["x"], placed["y"]) if placed else None, focus=focus)
    state = st.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"), key="map",
                            config={"displaylogo": False, "showSendToCloud": False,  # nothing leaves the app
                                    "modeBarButtonsToRemove": ["sendChartToCloud"]})
    indices = indices_from_selection(state.selection if state else None)
    if placed:
        st.caption("Your uploaded face (star) — nearest neighbours: " + ", ".join(placed["ids"]))
    if not indices:
        st.caption("Click a point to see its face, or choose Box or Lasso Select in the chart's toolbar to see "
                   "many at once.")
        return
    faces = explorer.selection(name, indices)
    st.write(f"{len(indices):,} selected" + (f", showing {len(faces)}" if len(faces) < len(indices) else ""))
    picture(st, [face for face, _ in faces], caption=[label for _, label in faces], width=96)
    if explorer.originals:  # $ANIME_EXPLORER_DATA points at a local copy of the dataset
        originals = [(explorer.original(name, i), label) for i, (_, label) in zip(indices, faces)]
        found = [(image, label) for image, label in originals if image is not None]
        if found:
            st.write("The same faces in your local data (originals):")
            picture(st, [image for image, _ in found], caption=[label for _, label in found], width=96)
    if st.button("Load the first selected face into the sliders", key="load-selected", on_click=set_base,
                 args=(name, explorer.point(name, indices[0])[0])):
        st.success(f"Loaded {faces[0][1]}")


def results_table(explorer: Explorer) -> None:
    """Every model's figures as a table the user can sort by any column (click its header); a figure not
    measured (seed 002's KID, say) shows as the README's "—", not as a grey "None". The table is wider than the
    tab, so the model column stays pinned while the user scrolls to the sample counts and data."""
    figure = st.column_config.NumberColumn
    rows = explorer.results()  # read once per rerun for the table and its note
    st.dataframe(results_records(rows), hide_index=True, placeholder="—", height="content", column_config={
        "model": st.column_config.TextColumn("model", pinned=True),
        "FID": figure("FID ↓", format="%.1f"), "KID ×10³": figure("KID ×10³ ↓", format="%.1f"),
        "precision": figure("precision ↑", format="%.3f", help="share of samples that look like some real image"),
        "recall": figure("recall ↑", format="%.3f", help="share of real images that some sample looks like"),
        "test PSNR (dB)": figure("test PSNR (dB) ↑", format="%.2f"), "test SSIM": figure("test SSIM ↑", format="%.3f"),
        "rFID": figure("rFID ↓", format="%.1f", help="FID of test images passed through the encoder and decoder"),
        "samples vs real": st.column_config.TextColumn(help="generated samples against real images of the split")})
    st.caption(results_note(rows))


def models_ui(explorer: Explorer, name: str) -> None:
    st.markdown(summary_markdown(explorer.summary(name)))
    evolution = explorer.evolution(name)
    if evolution:
        epochs = evolution[1]
        epoch = st.select_slider("Training evolution: epoch", options=epochs, value=epochs[-1], key="epoch")
        picture(st, explorer.evolution_row(name, epoch), caption=f"The same latents after epoch {epoch}")
    latent = current_latent(explorer, name)
    st.download_button("Export the current latent (JSON)", latent_to_json(latent, name), file_name=f"{name}-latent.json",
                       mime="application/json", key="export")
    imported = st.file_uploader("Import a latent (JSON)", type=["json"], key="import", max_upload_size=JSON_MB)
    if imported is not None:
        try:  # checked on upload, so a bad file is named before anything is clicked
            latent = latent_from_json(imported.getvalue(), explorer.model(name).latent_dim, name)
        except ExplorerInputError as error:
            st.error(str(error))
        else:
            if st.button("Use the imported latent", key="use-import", on_click=set_base, args=(name, latent)):
                st.success("Imported: the sliders start from it.")
    with st.expander("Results of every model (FID, KID, precision/recall, reconstruction)"):
        results_table(explorer)
    with st.expander("Model card"):
        st.markdown(explorer.model(name).card)


def main() -> None:
    st.set_page_config(page_title="anime-latent-explorer", layout="wide")
    st.title("anime-latent-explorer")
    explorer = get_explorer(os.environ.get(ENV_VAR) or str(DEFAULT_ROOT))
    # A model built while the app runs (python -m trainer build) appears without a restart.
    if st.sidebar.button("↻ Refresh models", key="refresh-models", help="look for model folders built since"):
        if explorer.refresh()[1]:
            st.cache_data.clear()  # pictures drawn by weights that have since been rebuilt
    choices = explorer.model_choices()
    names, labels = [name for _, name in choices], {name: label for label, name in choices}
    if not names:
        st.error(f"No models found in {explorer.root}; set {ENV_VAR} to a folder of checkpoint folders.")
        return
    name = st.sidebar.selectbox("Model", names, format_func=labels.get, key="model")
    # Every figure's meaning on hover (the summary's words are the app's own), and all of them in the expander.
    if not shown_or_error(lambda: st.sidebar.markdown(with_tooltips(summary_markdown(explorer.summary(name))), unsafe_allow_html=True),
                          "summary"):
        return  # the model itself does not load: its one line says why
    smooth = st.sidebar.radio("Enlarged pixels", ["sharp", "smooth"], horizontal=True, key="pixels",
                              help="sharp: the model's own pixels") == "smooth"
    st.markdown(pixels_style(smooth), unsafe_allow_html=True)
    with st.sidebar.expander("What the figures mean"):
        st.markdown(glossary_lines())
    pages = {"Sliders": sliders_ui, "Traversal": traversal_ui, "Samples": samples_ui, "Reconstruct": reconstruct_ui,
             "Interpolate": interpolate_ui, "Map": map_ui, "Models": models_ui}
    for tab, page in zip(st.tabs(list(pages)), pages.values()):
        with tab:
            shown_or_error(lambda: page(explorer, name), page.__name__)


def shown_or_error(draw, where: str) -> bool:
    """Run one page: an error a user can cause is its one line; any other is logged with its traceback and
    said to be ours. Streamlit's own control flow (rerun, stop) derives from BaseException and passes."""
    try:
        draw()
    except ExplorerInputError as error:
        st.error(str(error))
        return False
    except Exception as error:
        st.error(report_internal(error, where))
        return False
    return True


if __name__ == "__main__":
    main()
