"""The Gradio app as a user's client meets it: a real server on a port, called through gradio_client."""

import html
import io
import json
import re
import shutil
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image


SLIDERS = 16


@pytest.fixture(scope="module")
def served(served_app):
    app, url = served_app
    client = Client(url, verbose=False)
    client.predict("tiny-vae", 42, 1.0, api_name="/select_model")
    return app, client, url


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def face_url(url: str, face_html: str, offsets=None, **change) -> str:
    """The image URL in the face widget's HTML, with other slider offsets if given (what the page's script
    does) and any other query field replaced by ``change``."""
    src = html.unescape(re.search(r'src="([^"]+)"', face_html).group(1))
    query = {k: v[0] for k, v in parse_qs(urlsplit(src).query, keep_blank_values=True).items()}
    if offsets is not None:
        query["v"] = ",".join(map(str, offsets))
    return urljoin(url, src.split("?")[0] + "?" + urlencode({**query, **change}))


def face_pixels(url: str, face_html: str, offsets=None) -> np.ndarray:
    response = httpx.get(face_url(url, face_html, offsets), timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png", response.text
    return pixels(io.BytesIO(response.content))


def write_image(folder, name, image: Image.Image, **options):
    path = folder / name
    image.save(path, **options)
    return str(path)


def test_every_operation_is_a_named_endpoint(served):
    _, client, _ = served
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/select_model", "/random", "/reset", "/face", "/sliders", "/traversal", "/reconstruct", "/encode_a", "/encode_b",
            "/interpolate", "/samples", "/evolution", "/export_latent", "/import_latent"} <= set(endpoints)


def test_model_selection_labels_the_sliders(served):
    _, client, url = served
    summary, face, *sliders, figures = client.predict("tiny-vae", 42, 1.0, api_name="/select_model")
    assert "tiny-vae" in summary and "VAE" in summary and "FID" in figures and "FID" not in summary
    assert face_pixels(url, face).shape == (16, 16, 3)  # the page shows it 256 px wide


def test_moving_a_slider_changes_the_face(served):
    _, client, url = served
    face = client.predict("tiny-vae", 7, 1.0, api_name="/random")[0]
    still = face_pixels(url, face, [0.0] * SLIDERS)
    moved = face_pixels(url, face, [3.0] + [0.0] * (SLIDERS - 1))
    again = face_pixels(url, face, [])
    assert np.abs(still - moved).mean() > 1 and np.array_equal(still, again)


@pytest.mark.parametrize("change,status,message", [
    ({"model": "nope"}, 404, "no model 'nope'"),
    ({"base": "AAAA"}, 400, "has 0 values; this model needs 16"),
    ({"v": "1,x"}, 400, "must be numbers"),
    ({"v": "4"}, 400, "within ±3"),
    ({"v": ",".join(["0"] * (SLIDERS + 1))}, 400, f"at most {SLIDERS}"),
])
def test_the_face_route_answers_bad_requests_with_one_line(served, change, status, message):
    _, client, url = served
    face = client.predict("tiny-vae", 7, 1.0, api_name="/random")[0]
    good = face_url(url, face)
    response = httpx.get(face_url(url, face, **change), timeout=30)
    assert response.status_code == status and message in response.text and "\n" not in response.text.strip()
    assert httpx.get(good, timeout=30).status_code == 200  # and it keeps serving


def current_latent(client) -> list[float]:
    """The latent under the sliders of this client's session, as an API user gets it (/export_latent)."""
    path = client.predict("tiny-vae", *[0.0] * SLIDERS, api_name="/export_latent")
    return json.loads(open(path).read())["latent"]


def test_the_face_endpoint_draws_what_the_sliders_show(served):
    app, client, url = served
    face = client.predict("tiny-vae", 9, 1.0, api_name="/random")[0]
    latent = current_latent(client)
    names = client.predict("tiny-vae", api_name="/sliders")
    assert names == [d.name for d in app.explorer.sliders("tiny-vae")] and len(names) > 2
    offsets = [2.0, -1.5] + [0.0] * (len(names) - 2)
    moved = pixels(client.predict("tiny-vae", latent, offsets, api_name="/face"))
    assert moved.shape == (16, 16, 3)
    assert np.abs(moved - face_pixels(url, face, offsets)).max() <= 1  # the page's face at the same sliders
    still = pixels(client.predict("tiny-vae", latent, [], api_name="/face"))
    assert np.abs(still - face_pixels(url, face, [])).max() <= 1 and np.abs(still - moved).mean() > 1


def test_traversal_sweeps_every_slider_from_the_current_face(served):
    app, client, _ = served
    client.predict("tiny-vae", 9, 1.0, api_name="/random")
    rows = len(app.explorer.sliders("tiny-vae"))
    seven = pixels(client.predict("tiny-vae", 7, *[0.0] * SLIDERS, api_name="/traversal"))
    eleven = pixels(client.predict("tiny-vae", 11, *[0.0] * SLIDERS, api_name="/traversal"))
    assert seven.shape[0] > rows * 16 and seven.shape[1] > 7 * 16 and eleven.shape[1] > seven.shape[1] + 3 * 16
    moved = pixels(client.predict("tiny-vae", 7, *([2.0] + [0.0] * (SLIDERS - 1)), api_name="/traversal"))
    assert moved.shape == seven.shape and np.abs(moved - seven).mean() > 1
    with pytest.raises(Exception, match="less than minimum value 3"):  # the steps slider's own range
        client.predict("tiny-vae", 2, *[0.0] * SLIDERS, api_name="/traversal")


@pytest.mark.parametrize("model,latent,offsets,message", [
    ("nope", [0.0] * 16, [], "no model 'nope'"),
    ("tiny-vae", [0.0] * 3, [], "has 3 values; this model needs 16"),
    ("tiny-vae", [0.0] * 16, [4.0], "within ±3"),
    ("tiny-vae", [0.0] * 16, [0.0] * (SLIDERS + 1), f"at most {SLIDERS}"),
])
def test_the_face_endpoint_names_bad_arguments(served, model, latent, offsets, message):
    _, client, _ = served
    with pytest.raises(Exception, match=message):
        client.predict(model, latent, offsets, api_name="/face")
    assert pixels(client.predict("tiny-vae", [0.0] * 16, [], api_name="/face")).shape == (16, 16, 3)


def test_seeds_give_reproducible_random_faces(served):
    _, client, url = served
    first = face_pixels(url, client.predict("tiny-vae", 5, 1.0, api_name="/random")[0])
    other = face_pixels(url, client.predict("tiny-vae", 6, 1.0, api_name="/random")[0])
    same = face_pixels(url, client.predict("tiny-vae", 5, 1.0, api_name="/random")[0])
    assert np.array_equal(first, same) and not np.array_equal(first, other)


def test_upload_reconstructs_and_becomes_the_slider_base(served, tmp_path):
    _, client, url = served
    from trainer.data.synthetic import synthetic_faces

    _, image, _, _ = next(synthetic_faces(1, 64, seed=3))
    path = write_image(tmp_path, "face.png", image)
    original, recon, info, face, *_ = client.predict("tiny-vae", handle_file(path), api_name="/reconstruct")
    assert "PSNR" in info and float(info.split("PSNR ")[1].split(" ")[0]) > 10
    assert pixels(original).shape == pixels(recon).shape == (16, 16, 3)  # the model's own pixels
    # The slider face is now the reconstruction.
    assert np.array_equal(face_pixels(url, face, [0.0] * SLIDERS), pixels(recon))


@pytest.mark.parametrize("name,content,message", [
    ("empty.png", b"", "empty"),
    ("notes.png", b"just some text", "not an image"),
    ("cut.png", None, "damaged"),
])
def test_bad_uploads_show_a_message_and_the_app_keeps_serving(served, tmp_path, name, content, message):
    _, client, url = served
    path = tmp_path / name
    if content is None:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), "red").save(buffer, format="PNG")
        content = buffer.getvalue()[:80]
    path.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict("tiny-vae", handle_file(str(path)), api_name="/reconstruct")
    assert face_pixels(url, client.predict("tiny-vae", 1, 1.0, api_name="/random")[0]).shape == (16, 16, 3)


def test_an_upload_over_the_limit_is_refused_before_it_is_stored(served):
    from explorer.uploads import MAX_UPLOAD_BYTES

    _, client, url = served
    files = {"files": ("huge.png", b"\x89PNG" + b"0" * MAX_UPLOAD_BYTES, "image/png")}
    response = httpx.post(urljoin(url, "gradio_api/upload"), files=files, timeout=60)
    assert response.status_code == 413 and "maximum allowed size" in response.text
    assert face_pixels(url, client.predict("tiny-vae", 1, 1.0, api_name="/random")[0]).shape == (16, 16, 3)


def test_interpolation_strip_and_gif(served, tmp_path):
    app, client, _ = served
    from explorer.render import grid
    from trainer.data.synthetic import synthetic_faces

    faces = [image for _, image, _, _ in synthetic_faces(2, 64, seed=11)]
    shown = pixels(client.predict("tiny-vae", handle_file(write_image(tmp_path, "a.png", faces[0])),
                                  api_name="/encode_a"))
    # End A shows what the user gave (the upload as the model takes it in) beside the model's drawing of it.
    given = app.explorer.reconstruct("tiny-vae", str(tmp_path / "a.png"))
    drawn = app.explorer.model("tiny-vae").decode(given.latent)
    np.testing.assert_array_equal(shown, grid(np.stack([given.original, drawn]), columns=2))
    client.predict("tiny-vae", handle_file(write_image(tmp_path, "b.png", faces[1])), api_name="/encode_b")
    strip, gif = client.predict("tiny-vae", 6, "slerp", api_name="/interpolate")
    assert pixels(strip).shape[1] > 5 * pixels(strip).shape[0]
    animation = Image.open(gif)
    assert animation.is_animated and animation.n_frames == 10  # 6 frames there, 4 back


def test_samples_and_training_evolution(served):
    _, client, _ = served
    gallery = client.predict("tiny-vae", 3, 9, 1.0, "normal", api_name="/samples")
    faces = [pixels(item["image"]) for item in gallery]
    assert len(faces) == 9 and faces[0].shape == (16, 16, 3) and gallery[4]["caption"] == "seed 3 · sample 5"
    assert not np.array_equal(faces[0], faces[1])
    again = client.predict("tiny-vae", 3, 4, 1.0, "normal", api_name="/samples")  # sample i of a seed, any count
    assert all(np.array_equal(pixels(a["image"]), f) for a, f in zip(again, faces))
    fitted = client.predict("tiny-vae", 3, 4, 1.0, "fitted", api_name="/samples")  # the VAE's fitted prior
    assert fitted[1]["caption"] == "seed 3 · sample 2 · fitted prior"
    assert not np.array_equal(pixels(fitted[0]["image"]), faces[0])
    # Naming no prior draws from the model's own: the fitted prior of a VAE that has one.
    default = client.predict("tiny-vae", 3, 4, 1.0, api_name="/samples")
    assert [d["caption"] for d in default] == [f["caption"] for f in fitted]
    assert all(np.array_equal(pixels(d["image"]), pixels(f["image"])) for d, f in zip(default, fitted))
    last, first = pixels(client.predict("tiny-vae", 3, api_name="/evolution")), pixels(
        client.predict("tiny-vae", 0, api_name="/evolution"))
    assert last.shape == first.shape and np.abs(last - first).mean() > 1


def test_the_draw_from_choice_follows_the_model(served, tmp_path):
    from app_fixtures import served as serving

    app, client, _ = served
    offered = app.core.prior_options("tiny-vae")
    assert [value for _, value in offered.choices] == ["normal", "fitted"] and offered.value == "fitted"
    # A model folder without a fitted prior offers N(0, I) alone, and refuses "fitted" with a message.
    without = tmp_path / "without"
    shutil.copytree(app.explorer.root / "tiny-vae", without / "tiny-vae")
    (without / "tiny-vae" / "latent_prior.safetensors").unlink()
    with serving(without) as (other, url):
        offered = other.core.prior_options("tiny-vae")
        assert [value for _, value in offered.choices] == ["normal"] and offered.value == "normal"
        client = Client(url, verbose=False)
        assert client.predict("tiny-vae", 3, 2, 1.0, api_name="/samples")[1]["caption"] == "seed 3 · sample 2"
        with pytest.raises(Exception, match="no fitted latent prior"):
            client.predict("tiny-vae", 3, 4, 1.0, "fitted", api_name="/samples")


def test_latent_export_and_import(served, tmp_path):
    _, client, url = served
    face = face_pixels(url, client.predict("tiny-vae", 9, 1.0, api_name="/random")[0], [1.0] + [0.0] * (SLIDERS - 1))
    exported = client.predict("tiny-vae", *([1.0] + [0.0] * (SLIDERS - 1)), api_name="/export_latent")
    payload = json.loads(open(exported).read())
    assert payload["model"] == "tiny-vae" and len(payload["latent"]) == 16
    client.predict("tiny-vae", 1, 1.0, api_name="/random")
    restored, *_ = client.predict("tiny-vae", handle_file(exported), api_name="/import_latent")
    assert np.abs(face_pixels(url, restored) - face).max() <= 1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(Exception, match="not valid JSON"):
        client.predict("tiny-vae", handle_file(str(bad)), api_name="/import_latent")


def test_share_link_encodes_the_page_state(served):
    _, client, _ = served
    client.predict("tiny-vae", 4, 0.7, api_name="/random")
    link = client.predict("tiny-vae", 4, 0.7, 1.5, *[0.0] * (SLIDERS - 1), api_name="/share_link")
    from explorer.share import PageState

    state = PageState.from_query(link.split("?", 1)[1].split(")", 1)[0])
    assert state.model == "tiny-vae" and state.seed == 4 and state.temperature == 0.7
    assert list(state.sliders.values()) == [1.5] and state.latent is None
