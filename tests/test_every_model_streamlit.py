"""Every shipped model, and each tiny kind (RGB, one-channel), through every page of the Streamlit front end.

AppTest runs the real script; the pictures it would send to the browser are read back from Streamlit's media
store, so each page is checked for what a person would see (a face of the model's size and channels, a map
with every encoded face, a latent that round-trips), not only for the absence of an exception.
"""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("streamlit")
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from app_fixtures import BUILT, SHIPPED, TINY  # noqa: E402
from explorer.service import ENV_VAR, Explorer  # noqa: E402
from trainer.data.synthetic import synthetic_faces  # noqa: E402

SCRIPT = str(Path(__file__).resolve().parents[1] / "webui" / "streamlit_app.py")


@pytest.fixture(scope="module")
def media():
    """URL → bytes of every picture and download the script hands to Streamlit (AppTest keeps only URLs)."""
    served: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.get_url

    def recording(self, file_id):
        url = original(self, file_id)
        served[url] = self.get_file(file_id).content
        return url

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MemoryMediaFileStorage, "get_url", recording)
        yield served


@pytest.fixture(scope="module")
def explorer(every_model_root):
    return Explorer(every_model_root, data=[])


def picture(at, media, caption: str) -> Image.Image:
    found = [img for img in at.image if caption in " ".join(img.captions)]
    assert found, f"no picture captioned '{caption}'"
    return Image.open(io.BytesIO(media[found[0].value[0]]))


def check_face(image: Image.Image, model) -> np.ndarray:
    size = model.image_size  # the model's own pixels: the page enlarges them
    assert image.size == (size, size), (image.size, size)
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    if model.image_channels == 1:  # grey, whatever mode the encoder stored it in
        assert np.ptp(pixels, axis=2).max() <= 3
    assert pixels.std() > 2, "a blank image"
    return pixels


def no_errors(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# The shipped models take 15-23 s each here: they run in make test-all and CI; the tiny stand-ins (RGB and
# grayscale) keep every page in the fast tier.
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) for name in SHIPPED] + TINY + [BUILT])
def test_every_page_on_every_model(every_model_root, explorer, media, monkeypatch, name):
    monkeypatch.setenv(ENV_VAR, str(every_model_root))
    model = explorer.model(name)
    at = AppTest.from_file(SCRIPT, default_timeout=300)
    at.run()
    at.selectbox(key="model").set_value(name).run()
    no_errors(at)
    assert name in at.sidebar.markdown[0].value  # the model's summary

    # Sliders: the face is the model's picture; a slider moves it; a new seed, Another random face and Reset sliders do theirs.
    still = check_face(picture(at, media, "sliders make"), model)
    at.slider(key=f"slider-{name}-0").set_value(3.0).run()
    no_errors(at)
    moved = check_face(picture(at, media, "sliders make"), model)
    assert np.abs(moved - still).mean() > 0.5
    at.button(key="reset").click().run()
    assert at.slider(key=f"slider-{name}-0").value == 0.0
    assert np.abs(check_face(picture(at, media, "sliders make"), model) - still).max() <= 3
    at.number_input(key="seed").set_value(6).run()  # a seed typed changes the face at once
    no_errors(at)
    seeded = check_face(picture(at, media, "sliders make"), model)
    assert np.abs(seeded - still).mean() > 0.5
    assert at.button(key="random").label == f"Another random {model.subject}"  # garments for Fashion-MNIST
    at.button(key="random").click().run()  # "Another random face": the next seed's
    no_errors(at)
    assert at.number_input(key="seed").value == 7
    assert np.abs(check_face(picture(at, media, "sliders make"), model) - seeded).mean() > 0.5

    # Traversal: a row per slider.
    at.button(key="traverse").click().run()
    no_errors(at)
    sweep = picture(at, media, "Traversal")
    assert sweep.height > len(explorer.sliders(name)) * model.image_size and sweep.width > 7 * model.image_size

    # Samples from every prior the model has.
    for prior in explorer.priors(name):
        at.radio(key=f"sample-prior-{name}").set_value(prior).run()
        no_errors(at)
        samples = [img for img in at.image if any(c.startswith("seed 7 · sample ") for c in img.captions)]
        assert len(samples[0].value) == 16
        faces = [check_face(Image.open(io.BytesIO(media[url])), model) for url in samples[0].value[:2]]
        assert not np.array_equal(faces[0], faces[1])

    # Reconstruct a real-looking upload (a 300-px JPEG), then make it the slider face.
    _, portrait, _, _ = next(synthetic_faces(1, 300, seed=5))
    buffer = io.BytesIO()
    portrait.convert("RGB").save(buffer, format="JPEG", quality=90)
    at.file_uploader(key="reconstruct-upload").upload("portrait.jpg", buffer.getvalue(), "image/jpeg").run()
    no_errors(at)
    check_face(picture(at, media, "As the model sees it"), model)
    rebuilt = check_face(picture(at, media, "Reconstruction"), model)
    at.button(key="use-upload").click().run()
    no_errors(at)
    assert np.abs(check_face(picture(at, media, "sliders make"), model) - rebuilt).max() <= 3

    # The map: every encoded face is a point, the uploaded face a star on top.
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = chart["data"]
    assert sum(len(t["x"]) for t in traces if t.get("name") != "your face") == len(model.atlas)
    assert traces[-1]["name"] == "your face"
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["showSendToCloud"] is False and "sendChartToCloud" in config["modeBarButtonsToRemove"]

    # Interpolate from the slider face to a moved one: a strip of frames and a GIF to download.
    assert at.button(key="interp-use-A").label == f"A ← current slider {model.subject}"  # garments, not faces
    at.button(key="interp-use-A").click().run()
    at.slider(key=f"slider-{name}-0").set_value(3.0).run()
    at.button(key="interp-use-B").click().run()
    no_errors(at)
    strip = picture(at, media, "A → B")
    assert strip.width > 8 * model.image_size and strip.height > model.image_size
    gif = next(b for b in at.get("download_button") if b.proto.label == "Download the GIF")
    assert Image.open(io.BytesIO(media[gif.proto.url])).n_frames == 14  # 8 there, 6 back

    # Models page: the evolution strip; the current latent exported, then imported back as the slider base.
    assert picture(at, media, "The same latents after epoch").width > model.image_size
    export = next(b for b in at.get("download_button") if b.proto.label == "Export the current latent (JSON)")
    exported = media[export.proto.url]
    latent = json.loads(exported)
    assert latent["model"] == name and len(latent["latent"]) == model.latent_dim
    face_then = check_face(picture(at, media, "sliders make"), model)
    at.button(key="reset").click().run()
    at.file_uploader(key="import").upload("latent.json", exported, "application/json").run()
    at.button(key="use-import").click().run()
    no_errors(at)
    assert np.allclose(at.session_state[f"base-{name}"], latent["latent"], atol=1e-6)
    assert np.abs(check_face(picture(at, media, "sliders make"), model) - face_then).max() <= 3
