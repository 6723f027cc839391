"""The Streamlit front end with streamlit.testing (AppTest), over the same tiny model as the Gradio tests."""

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from explorer.selection import indices_from_selection  # noqa: E402
from explorer.service import ENV_VAR  # noqa: E402

SCRIPT = str(Path(__file__).resolve().parents[1] / "webui" / "streamlit_app.py")


@pytest.fixture
def app(tiny_models, tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(tiny_models, root)
    shutil.copytree(root / "tiny-vae", root / "tiny-vae-copy")
    monkeypatch.setenv(ENV_VAR, str(root))
    at = AppTest.from_file(SCRIPT, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def face_url(at) -> str:
    return next(img for img in at.image if "sliders make" in " ".join(img.captions)).value[0]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_moving_a_slider_changes_the_image(app):
    before = face_url(app)
    app.slider(key="slider-tiny-vae-0").set_value(2.5).run()
    assert not app.exception and face_url(app) != before
    app.slider(key="slider-tiny-vae-0").set_value(0.0).run()
    assert face_url(app) == before


def test_switching_models(app):
    options = app.selectbox(key="model").options  # the labels: each name with its FID
    assert [o.split(" — ")[0] for o in options] == ["tiny-vae", "tiny-vae-copy", "tiny-vae-gray"]
    assert "★" not in "".join(options)  # two copies of one model tie: neither is the best
    app.selectbox(key="model").set_value("tiny-vae-copy").run()
    assert not app.exception
    assert app.slider(key="slider-tiny-vae-copy-0").value == 0.0


def test_upload_reconstructs_and_bad_uploads_are_errors(app):
    from trainer.data.synthetic import synthetic_faces

    _, face, _, _ = next(synthetic_faces(1, 64, seed=2))
    app.file_uploader(key="reconstruct-upload").upload("face.png", png(face), "image/png").run()
    assert not app.exception
    assert any("PSNR" in " ".join(img.captions) for img in app.image)
    before = face_url(app)
    app.button(key="use-upload").click().run()  # the upload becomes the slider base, sliders at zero
    assert not app.exception and face_url(app) != before
    assert any("start from your face" in s.value for s in app.success)
    assert all(app.slider(key=f"slider-tiny-vae-{i}").value == 0.0 for i in range(3))
    app.file_uploader(key="reconstruct-upload").clear().upload("bad.png", b"not an image", "image/png").run()
    assert not app.exception
    assert any("not an image" in e.value for e in app.error)


def test_interpolation_from_the_current_face(app):
    app.button(key="interp-use-A").click().run()
    app.slider(key="slider-tiny-vae-0").set_value(3.0).run()
    app.button(key="interp-use-B").click().run()
    assert not app.exception
    assert any("A → B" in " ".join(img.captions) for img in app.image)
    # Each end shows what it stands for; an uploaded end, the upload beside the model's drawing of it.
    captions = [c for img in app.image for c in img.captions]
    assert "A: the current slider face" in captions and "B: the current slider face" in captions
    face = Image.fromarray(np.full((40, 40, 3), 200, np.uint8))
    app.file_uploader(key="interp-A").upload("a.png", png(face), "image/png").run()
    assert not app.exception
    assert len([img for img in app.image if "A: your upload · as the model draws it" in img.captions]) == 1


def test_every_picture_is_sent_as_png(app):
    """Streamlit's "auto" sends a picture as JPEG, whose blocks blur a face's pixels."""
    app.button(key="traverse").click().run()
    urls = [url for img in app.image for url in img.value]
    assert len(urls) > 5 and all(url.endswith(".png") for url in urls), urls


def traversal_image(at):
    found = [img for img in at.image if "Traversal" in " ".join(img.captions)]
    return found[0].value[0] if found else None


def test_traversal_sweeps_the_current_face(app):
    assert traversal_image(app) is None  # nothing is swept until asked
    app.button(key="traverse").click().run()
    assert not app.exception
    first = traversal_image(app)
    assert first is not None
    app.slider(key="slider-tiny-vae-0").set_value(2.0).run()
    assert traversal_image(app) == first  # the figure shows what was swept, until the next sweep
    app.button(key="traverse").click().run()
    assert traversal_image(app) != first


def test_a_sample_loads_into_the_sliders(app):
    from explorer.service import Explorer

    # A VAE with a fitted latent prior draws from it unless the user picks N(0, I).
    assert any("seed 42 · sample 3 · fitted prior" in img.captions for img in app.image)
    before = face_url(app)
    app.selectbox(key="sample-choice").set_value(2).run()
    app.button(key="load-sample").click().run()
    assert not app.exception and face_url(app) != before
    assert any("sample 3 · fitted prior is now the slider face" in s.value for s in app.success)
    fitted = Explorer().samples("tiny-vae", 42, 16, 1.0, "fitted")[1][2]  # the app's root, from the environment
    assert np.array_equal(app.session_state["base-tiny-vae"], fitted)
    app.radio(key="sample-prior-tiny-vae").set_value("normal").run()
    assert not app.exception and any("seed 42 · sample 3" in img.captions for img in app.image)
    app.button(key="load-sample").click().run()
    normal = Explorer().samples("tiny-vae", 42, 16, 1.0, "normal")[1][2]
    assert np.array_equal(app.session_state["base-tiny-vae"], normal)


def test_an_imported_latent_becomes_the_slider_base(app):
    from explorer.share import latent_to_json

    latent = np.linspace(-1, 1, 16).astype(np.float32)
    app.slider(key="slider-tiny-vae-0").set_value(1.0).run()
    app.file_uploader(key="import").upload("latent.json", latent_to_json(latent, "tiny-vae").encode(),
                                           "application/json").run()
    app.button(key="use-import").click().run()
    assert not app.exception and any("Imported" in s.value for s in app.success)
    assert np.allclose(app.session_state["base-tiny-vae"], latent, atol=1e-6)
    assert app.slider(key="slider-tiny-vae-0").value == 0.0
    app.file_uploader(key="import").clear().upload("bad.json", b"{not json", "application/json").run()
    assert not app.exception and any("not valid JSON" in e.value for e in app.error)


def test_selection_indices_come_from_customdata_whatever_the_trace():
    selection = {"points": [
        {"curve_number": 2, "point_index": 0, "customdata": 57},
        {"curve_number": 0, "point_index": 0, "customdata": [3]},
        {"curve_number": 5, "point_index": 0},  # the "your face" star: no atlas row
        {"curve_number": 2, "point_index": 0, "customdata": 57},
    ], "point_indices": [0, 0, 0], "box": [], "lasso": []}
    assert indices_from_selection(selection) == [57, 3]
    assert indices_from_selection(None) == [] and indices_from_selection({"points": []}) == []


def test_map_figure_traces_carry_atlas_indices(tiny_models):
    from explorer.map_figure import map_figure
    from explorer.service import Explorer

    payload = Explorer(tiny_models).map_data("tiny-vae", "pca", "hair")
    figure = map_figure(payload, highlight=(0.0, 0.0))
    indices = sorted(i for trace in figure.data[:-1] for i in trace.customdata)
    assert indices == list(range(payload["count"]))
    for trace in figure.data[:-1]:  # each point sits where the payload put that atlas row
        k = len(trace.customdata) // 2
        assert np.isclose(trace.x[k], payload["x"][trace.customdata[k]])
    assert figure.data[-1].name == "your face" and figure.data[0].type == "scattergl"
    # The star is drawn by the points' renderer after them, so it lies on top; its label lies above them all.
    assert figure.data[-1].type == "scattergl" and figure.layout.annotations[0].text == "your face"
    assert [t.marker.color for t in figure.data[:-1]] == payload["colours"]  # the core's colour per category
    # "Show my face": the view centred on the star, an eighth of the map's span either side of it.
    assert figure.layout.xaxis.range is None
    focused = map_figure(payload, highlight=(payload["x"][5], payload["y"][5]), focus=True)
    half = (max(payload["x"]) - min(payload["x"])) / 8
    assert np.allclose(focused.layout.xaxis.range, [payload["x"][5] - half, payload["x"][5] + half])
    assert focused.layout.uirevision != figure.layout.uirevision  # so Plotly applies the new view


def test_the_results_table_sorts_as_numbers_and_carries_the_evaluation(app, tiny_models):
    import json

    # The Models tab's table (AppTest renders every tab); the only dataframe with seed 002's row.
    element = next(d for d in app.dataframe if "seed 002 DCGAN (reference)" in set(d.value.get("model", [])))
    table = element.value
    evaluation = json.loads((tiny_models / "tiny-vae" / "metrics.json").read_text())["evaluation"]
    ours = table[table["model"] == "tiny-vae"].iloc[0]
    assert ours["FID"] == evaluation["generation"]["fid"]  # a number, so the column sorts by value
    assert ours["rFID"] == evaluation["reconstruction"]["realism"]["fid"]
    assert ours["samples vs real"].startswith(f"{evaluation['generation']['samples']:,} vs ")
    seed = table[table["model"] == "seed 002 DCGAN (reference)"].iloc[0]
    assert seed["FID"] == 45.3 and seed["IS"] == "7.2" and ours["IS"] == "n/a" and table["KID ×10³"].isna().sum() == 2
    assert element.proto.placeholder == "—"  # the figures seed 002 did not report read as the README's dash
    assert json.loads(element.proto.columns)["model"]["pinned"] is True  # in view while scrolling to the data
    assert any("Inception Score: not available" in c.value for c in app.caption)


def test_uploaders_refuse_in_the_browser_what_the_core_would_refuse(app):
    from explorer.share import MAX_JSON_BYTES
    from explorer.uploads import MAX_UPLOAD_BYTES

    limits = {u.key: u.proto.max_upload_size_mb for u in app.get("file_uploader")}
    assert limits == {"reconstruct-upload": MAX_UPLOAD_BYTES >> 20, "interp-A": MAX_UPLOAD_BYTES >> 20,
                      "interp-B": MAX_UPLOAD_BYTES >> 20, "import": MAX_JSON_BYTES >> 20}  # not Streamlit's 200 MB
