"""Every shipped model, and each tiny kind (RGB, one-channel), through every operation of the served Gradio app.

One real server over all of them, one real client session per model, one call per operation; each answer is
checked for what a person would see: an image of the model's size and channels, a figure with points, a
latent that comes back as it went out. The tiny models put the same matrix in the fast tests.
"""

import html
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from trainer.data.synthetic import synthetic_faces

from app_fixtures import BUILT, SHIPPED, TINY

SLIDERS = 16


@pytest.fixture(scope="module")
def real_looking_face(tmp_path_factory) -> str:
    """A face as a person would upload one: a 300×300 JPEG photo-sized, not the model's size or mode."""
    _, image, _, _ = next(synthetic_faces(1, 300, seed=5))
    path = tmp_path_factory.mktemp("upload") / "portrait.jpg"
    image.convert("RGB").save(path, quality=90)
    return str(path)


def image_of(source) -> Image.Image:
    return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)


def check_face(image: Image.Image, model) -> np.ndarray:
    """The picture has the model's size and its channels; not a flat field."""
    size = model.image_size  # the model's own pixels: the page enlarges them
    assert image.size == (size, size), (image.size, size)
    pixels = np.asarray(image, dtype=np.int16)
    if model.image_channels == 1:  # grey: one channel, or three equal ones where a widget stores RGB
        assert image.mode == "L" or (image.mode == "RGB" and np.ptp(pixels, axis=2).max() <= 2), image.mode
    else:
        assert image.mode == "RGB", image.mode
    assert pixels.std() > 2, "a blank image"
    return pixels


def face_route(url: str, face_html: str, offsets=None) -> Image.Image:
    """What the page's <img> fetches for the face widget (with other slider values, as a drag sends them)."""
    src = html.unescape(re.search(r'src="([^"]+)"', face_html).group(1))
    query = {k: v[0] for k, v in parse_qs(urlsplit(src).query, keep_blank_values=True).items()}
    if offsets is not None:
        query["v"] = ",".join(map(str, offsets))
    response = httpx.get(urljoin(url, src.split("?")[0] + "?" + urlencode(query)), timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png", response.text
    return image_of(response.content)


def base_token(face_html: str) -> str:
    return re.search(r'data-base="([^"]+)"', face_html).group(1)


@pytest.mark.parametrize("name", SHIPPED + TINY + [BUILT])
def test_every_operation_on_every_model(matrix_app, real_looking_face, tmp_path, name):
    app, url = matrix_app
    model = app.explorer.model(name)  # loaded once: the server's own instance
    client = Client(url, verbose=False)
    directions = client.predict(name, api_name="/sliders")
    assert directions and len(directions) <= SLIDERS

    # Model select: the summary names it; the slider face is the model's picture; the sliders are at zero.
    summary, face, *sliders, figures = client.predict(name, 42, 1.0, api_name="/select_model")
    shown = [s for s in sliders if s["visible"]]  # relabelled, zeroed; those the model lacks hidden
    assert name in summary and [s["label"].split(" · AUC")[0] for s in shown] == directions
    assert "Test split" in figures and "<abbr" in figures  # its figures, each explained on hover
    assert all(s["value"] == 0 for s in sliders)
    still = check_face(face_route(url, face), model)
    # A slider drag (the page's script asks the face route) changes the face; back at zero it is the same.
    moved = check_face(face_route(url, face, [3.0] + [0.0] * (SLIDERS - 1)), model)
    assert np.abs(moved - still).mean() > 0.5
    assert np.array_equal(check_face(face_route(url, face, [0.0] * SLIDERS), model), still)

    # Random base: another seed, another face, sliders zeroed. Reset: the face of the base, sliders zeroed.
    random_face, *sliders = client.predict(name, 7, 1.0, api_name="/random")
    assert base_token(random_face) != base_token(face) and all(v == 0 for v in sliders)
    reset_face, *sliders = client.predict(name, api_name="/reset")
    assert base_token(reset_face) == base_token(random_face) and all(v == 0 for v in sliders)
    assert np.array_equal(check_face(face_route(url, reset_face), model),
                          check_face(face_route(url, random_face), model))

    # Traversal: a labelled row per slider, a column per step.
    sweep = image_of(client.predict(name, 5, *[0.0] * SLIDERS, api_name="/traversal"))
    assert sweep.height > len(directions) * model.image_size and sweep.width > 5 * model.image_size

    # Reconstruct a real-looking upload: the upload as the model sees it and its reconstruction, 4× larger.
    original, recon, info, face, *sliders = client.predict(name, handle_file(real_looking_face),
                                                           api_name="/reconstruct")
    seen, rebuilt = check_face(image_of(original), model), check_face(image_of(recon), model)
    assert "PSNR" in info and float(info.split("PSNR ")[1].split(" ")[0]) > 5
    assert np.abs(seen - rebuilt).mean() < 80 and all(v == 0 for v in sliders)
    assert np.abs(check_face(face_route(url, face), model) - rebuilt).max() <= 1

    # The map: every encoded face is a point; the upload lands on it with its nearest neighbours.
    maps = sorted(model.atlas.maps)
    from webui.gradio_app.latent_map import unpacked

    payload = unpacked(client.predict(name, maps[0], "cluster", api_name="/map_data"))  # sent as typed arrays
    assert payload["model"] == name and payload["count"] == len(model.atlas) == len(payload["x"]) > 10
    assert np.allclose(payload["x"], model.atlas.maps[maps[0]][:, 0], atol=1e-3)
    assert payload["codes"] == model.atlas.cluster.astype(int).tolist()
    placed, neighbours = client.predict(name, maps[0], "cluster", api_name="/place_upload")
    assert placed["highlight"] and np.isfinite([placed["highlight"]["x"], placed["highlight"]["y"]]).all()
    assert len(neighbours) == 8
    check_face(image_of(neighbours[0]["image"]), model)
    point = client.predict(name, 3, api_name="/map_point")
    assert len(point["latent"]) == model.latent_dim and str(model.atlas.ids[3]) in point["label"]
    assert client.predict(name, [0, 1, 2], api_name="/map_selection") == [str(i) for i in model.atlas.ids[:3]]

    # Interpolate between two uploads: a strip of frames and an animated GIF.
    client.predict(name, handle_file(real_looking_face), api_name="/encode_a")
    _, other, _, _ = next(synthetic_faces(1, 200, seed=9))
    other_path = tmp_path / "other.png"
    other.save(other_path)
    client.predict(name, handle_file(str(other_path)), api_name="/encode_b")
    strip, gif = client.predict(name, 6, "slerp", api_name="/interpolate")
    strip = image_of(strip)
    assert strip.height >= model.image_size and strip.width > 6 * model.image_size
    assert Image.open(gif).n_frames == 10  # 6 there, 4 back

    # Samples from every prior the model has, each a gallery of the model's pictures (2× larger).
    priors = ["normal", "fitted"] if model.has_fitted_prior else ["normal"]
    for prior in priors:
        gallery = client.predict(name, 3, 4, 1.0, prior, api_name="/samples")
        assert len(gallery) == 4 and gallery[0]["caption"].startswith("seed 3 · sample 1")
        faces = [check_face(image_of(item["image"]), model) for item in gallery]
        assert not np.array_equal(faces[0], faces[1])

    # Training evolution: the fixed latents after the last epoch.
    last_epoch = json.loads((model.directory / "evolution.json").read_text())["rows"][-1]
    evolution = image_of(client.predict(name, last_epoch, api_name="/evolution"))
    assert evolution.width > model.image_size and evolution.height >= model.image_size

    # Share: a link that names the model; latent export → import gives the same face back.
    link = client.predict(name, 7, 1.0, 1.5, *[0.0] * (SLIDERS - 1), api_name="/share_link")
    from explorer.share import PageState

    assert PageState.from_query(link.split("?", 1)[1].split(")", 1)[0]).model == name
    exported = client.predict(name, *[0.0] * SLIDERS, api_name="/export_latent")
    latent = json.loads(Path(exported).read_text())
    assert latent["model"] == name and len(latent["latent"]) == model.latent_dim
    client.predict(name, 1, 1.0, api_name="/random")
    imported, *_ = client.predict(name, handle_file(exported), api_name="/import_latent")
    assert np.array_equal(check_face(face_route(url, imported), model), check_face(face_route(url, face), model))
