"""The UI-free explorer core on a tiny VAE trained on synthetic faces."""

import io

import numpy as np
import pytest
from PIL import Image

from explorer.errors import ImageInputError, LatentInputError, RequestError
from explorer.map_colours import NAMED_COLOURS, UNTAGGED_COLOUR, category_colours
from explorer.latents import apply_directions, check_latent, interpolate, lerp, slerp
from explorer.model import ExplorerModel, discover_models
from explorer.share import check_offsets, latent_from_token, latent_to_token, offsets_from_text
from explorer.uploads import read_upload
from trainer.cli import main
from trainer.data import load_image_data
from webui.wording import summary_markdown

DATA = "synthetic:600"


@pytest.fixture(scope="module")
def explorer_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("explorer")
    assert main(["train", "--preset", "vae-tiny", "--data", DATA, "--epochs", "3", "--out", str(root / "run"),
                 "--no-cache"]) == 0
    assert main(["export", "--run", str(root / "run"), "--out", str(root / "models" / "tiny")]) == 0
    assert main(["embed", "--checkpoint", str(root / "models" / "tiny"), "--data", DATA, "--maps", "pca",
                 "--no-cache", "--min-tag-count", "10"]) == 0
    return ExplorerModel(root / "models" / "tiny")


def test_interpolation_endpoints_equal_the_inputs():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    for mode in ("lerp", "slerp"):
        path = interpolate(a, b, 9, mode)
        assert path.shape == (9, 16)
        assert np.allclose(path[0], a, atol=1e-5) and np.allclose(path[-1], b, atol=1e-5)
    assert np.allclose(lerp(a, b, 0.5), (a + b) / 2)
    c = b / np.linalg.norm(b) * np.linalg.norm(a)  # equal norms: slerp stays on the sphere, lerp cuts inside
    assert abs(np.linalg.norm(slerp(a, c, 0.5)) - np.linalg.norm(a)) < 1e-4
    assert np.linalg.norm(lerp(a, c, 0.5)) < np.linalg.norm(a)
    assert np.allclose(slerp(a, a, 0.3), a)
    with pytest.raises(LatentInputError):
        interpolate(a, b, 1)
    with pytest.raises(LatentInputError):
        interpolate(a, b, 5, "cubic")


def test_slider_offsets_move_the_base_by_offset_times_spread():
    base = np.zeros(4, np.float32)
    moved = apply_directions(base, np.eye(4, dtype=np.float32)[:2], offsets=[1.0, -3.0], scales=[2.0, 0.5])
    assert np.allclose(moved, [2.0, -1.5, 0, 0])


def test_a_latent_survives_the_face_url_exactly_and_bad_tokens_are_refused():
    latent = np.random.default_rng(0).standard_normal(128).astype(np.float32)
    token = latent_to_token(latent)
    assert token.isascii() and "+" not in token and "/" not in token  # URL-safe as it is
    assert np.array_equal(latent_from_token(token, 128), latent)
    with pytest.raises(LatentInputError, match="this model needs 64"):
        latent_from_token(token, 64)
    with pytest.raises(LatentInputError, match="not base64"):
        latent_from_token("%%%", 128)
    with pytest.raises(LatentInputError, match="NaN"):
        latent_from_token(latent_to_token(np.full(4, np.nan, np.float32)), 4)


def test_slider_offsets_from_the_face_url():
    assert offsets_from_text("0.5,-1,,3", 16) == [0.5, -1.0, 3.0]
    assert offsets_from_text("", 16) == []
    for text, message in [("1,a", "numbers"), ("3.5", "within ±3"), ("nan", "within ±3"), ("0,0,0", "at most 2")]:
        with pytest.raises(LatentInputError, match=message):
            offsets_from_text(text, 2)


def test_slider_offsets_from_an_api_call():
    assert check_offsets([0.5, -1, 3], 16) == [0.5, -1.0, 3.0] and check_offsets((), 16) == []
    for bad, message in [("1,2", "a list"), ([1, "a"], "numbers"), ([None], "numbers"), ([-3.01], "within ±3"),
                         ([float("inf")], "within ±3"), ([0, 0, 0], "at most 2")]:
        with pytest.raises(LatentInputError, match=message):
            check_offsets(bad, 2)


def test_check_latent_rejects_what_does_not_fit():
    assert check_latent([0.5] * 4, 4).dtype == np.float32
    for bad, message in (([1, 2], "needs 4"), (["a"] * 4, "numbers"), ([float("nan")] * 4, "NaN"),
                         ([1e9] * 4, "1000")):
        with pytest.raises(LatentInputError, match=message):
            check_latent(bad, 4)


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("data", [
    _encoded(Image.new("RGB", (40, 30), "red"), "PNG"),
    _encoded(Image.new("RGB", (64, 64), "blue"), "JPEG"),
    _encoded(Image.new("CMYK", (20, 20), (0, 255, 0, 0)), "JPEG"),
    _encoded(Image.new("RGBA", (20, 20), (0, 0, 0, 0)), "PNG"),
    _encoded(Image.fromarray(np.full((20, 20), 40000, np.uint16)), "PNG"),
    _encoded(Image.new("RGB", (20, 20), "green"), "GIF", save_all=True,
             append_images=[Image.new("RGB", (20, 20), "white")], duration=100),
    _encoded(Image.new("RGB", (20, 20), "white"), "WEBP"),
])
def test_common_uploads_become_model_input(data):
    array = read_upload(data, 16, 3)
    assert array.shape == (3, 16, 16) and array.dtype == np.uint8


def test_animated_upload_uses_its_first_frame():
    data = _encoded(Image.new("RGB", (8, 8), (0, 200, 0)), "GIF", save_all=True,
                    append_images=[Image.new("RGB", (8, 8), "white")], duration=100)
    assert read_upload(data, 8, 3)[1].mean() > 150 and read_upload(data, 8, 3)[0].mean() < 50


@pytest.mark.parametrize("data,message", [
    (b"", "empty"), (None, "empty"), (b"this is a text file, not a picture", "not an image"),
    (_encoded(Image.new("RGB", (64, 64), "red"), "PNG")[:60], "damaged"),
    (_encoded(Image.new("1", (9000, 6000)), "PNG"), "limit"),
    (b"\x89PNG" + b"0" * (21 * 2**20), "limit is 20 MB"),
])
def test_bad_uploads_give_clear_errors(data, message):
    with pytest.raises(ImageInputError, match=message):
        read_upload(data, 16, 3)


def test_decode_sample_and_seeded_latents(explorer_model):
    z = explorer_model.random_latent(42)
    assert np.array_equal(z, explorer_model.random_latent(42)) and not np.array_equal(z, explorer_model.random_latent(43))
    face = explorer_model.decode(z)
    assert face.shape == (16, 16, 3) and face.dtype == np.uint8
    assert explorer_model.decode(np.stack([z, z])).shape == (2, 16, 16, 3)
    assert np.allclose(explorer_model.random_latent(42, temperature=0.5), z * 0.5)


def test_a_known_training_image_lands_on_its_own_map_position(explorer_model):
    atlas = explorer_model.atlas
    data = load_image_data([DATA], 16, 3)
    index = int(np.flatnonzero(~data.is_test)[5])
    assert atlas.ids[index] == data.ids[index]
    mu = explorer_model.encode(data.images[index].numpy())
    nearest, distances = explorer_model.neighbours(mu, 5)
    assert nearest[0] == index and distances[0] < 0.05
    placed = explorer_model.place_on_map(mu, "pca")
    extent = np.ptp(atlas.maps["pca"], axis=0)
    assert np.all(np.abs(placed - atlas.maps["pca"][index]) < 0.01 * extent)


def test_slider_directions(explorer_model):
    top = explorer_model.top_directions(4)
    kl = [float(d.name.split("KL ")[1].rstrip(")")) for d in top]
    assert len(top) == 4 and kl == sorted(kl, reverse=True) and all(d.scale > 0 for d in top)
    named = explorer_model.attribute_directions(count=3, min_score=0.0)
    assert len(named) == 3 and named[0].score >= named[-1].score and ":" in named[0].name


def test_map_colours_tell_every_category_apart():
    clusters = [f"cluster {i}" for i in range(16)]
    assert len(set(category_colours("cluster", clusters))) == 16
    assert len(set(category_colours("cluster", [f"c{i}" for i in range(26)]))) == 26
    assert category_colours("split", ["test", "train"])[0] != category_colours("split", ["test", "train"])[1]
    # Tags that name colours are drawn in that colour; untagged points faint.
    hair = category_colours("hair", ["(untagged)", "blonde", "Blue", "white"])
    assert hair == [UNTAGGED_COLOUR, NAMED_COLOURS["blonde"], NAMED_COLOURS["blue"], NAMED_COLOURS["white"]]
    # A tag that names no colour: the whole colouring falls back to the palette, still all distinct.
    odd = category_colours("hair", ["(untagged)", "blonde", "streaked"])
    assert odd[0] == UNTAGGED_COLOUR and len(set(odd)) == 3 and NAMED_COLOURS["blonde"] not in odd


def test_traversal_sweeps_each_slider_with_the_others_held(explorer_model):
    from explorer.service import Explorer

    service = Explorer(explorer_model.directory.parent)
    count = len(service.sliders("tiny"))
    base = service.random_base("tiny", 3)
    offsets = [1.0, -2.0]
    faces, names, positions = service.traversal("tiny", base, offsets, steps=5)
    assert faces.shape == (count * 5, 16, 16, 3) and names == [d.name for d in service.sliders("tiny")]
    assert positions.tolist() == [-3.0, -1.5, 0.0, 1.5, 3.0]
    for row in (0, 1, count - 1):  # slider `row` at each position, every other slider where it was
        for column, position in enumerate(positions):
            held = (offsets + [0.0] * count)[:count]
            held[row] = float(position)
            assert np.abs(faces[row * 5 + column].astype(int) - service.face("tiny", base, held)[0]).max() <= 1
    figure = service.traversal_image("tiny", base, offsets, steps=5)
    assert figure.shape[0] > count * 64 and figure.shape[1] > 5 * 64  # faces drawn at 64 px, labels beside
    with pytest.raises(RequestError, match="3 to 15 steps"):
        service.traversal("tiny", base, offsets, steps=2)
    with pytest.raises(LatentInputError):
        service.traversal("tiny", base[:3], offsets)


def test_discover_models(explorer_model):
    assert discover_models(explorer_model.directory.parent) == [explorer_model.directory]
    assert explorer_model.metrics["epochs"] == 3 and explorer_model.card.startswith("# tiny")


def test_service_map_payload_selection_and_placement(explorer_model):
    from explorer.service import Explorer

    service = Explorer(explorer_model.directory.parent)
    maps, colourings = service.map_options("tiny")
    assert maps == ["pca"] and {"cluster", "split", "hair", "eyes"} <= set(colourings)
    assert "source" not in colourings  # one data set: nothing to tell apart
    payload = service.map_data("tiny", "pca", "cluster")
    assert len(payload["x"]) == len(payload["codes"]) == 600
    assert payload["categories"][:3] == ["cluster 0", "cluster 1", "cluster 2"]
    assert max(payload["codes"]) < len(payload["categories"])
    assert len(payload["colours"]) == len(payload["categories"])
    assert len(set(payload["colours"])) == len(payload["colours"])  # no two clusters share a colour
    hair = service.map_data("tiny", "pca", "hair")
    assert hair["colours"] == category_colours("hair", hair["categories"])
    with pytest.raises(RequestError, match="choose a map"):
        service.map_data("tiny", "umap", "cluster")
    faces = service.selection("tiny", [0, 5, 7])
    assert len(faces) == 3 and faces[0][0].shape == (16, 16, 3) and faces[1][1] == "synthetic/000005"
    with pytest.raises(RequestError, match="not on this map"):
        service.selection("tiny", [0, 10_000])
    latent, face, label = service.point("tiny", 7)
    placed = service.placement("tiny", latent, "pca", count=4)
    assert placed["neighbours"][0] == 7 and placed["ids"][0] == "synthetic/000007" and "synthetic/000007" in label
    assert np.allclose([placed["x"], placed["y"]], [payload["x"][7], payload["y"][7]], atol=0.01)
    assert service.slider_latent("tiny", latent, [0.0] * 16) is not latent
    assert np.allclose(service.slider_latent("tiny", latent, [0.0] * 16), latent)


def test_an_atlas_of_two_data_sets_can_be_coloured_by_source(explorer_model, tmp_path):
    import shutil

    from explorer.service import Explorer
    from trainer.models.atlas import load_atlas

    folder = tmp_path / "models" / "mixed"
    shutil.copytree(explorer_model.directory, folder)
    atlas = load_atlas(folder)
    atlas.source = np.where(np.arange(len(atlas)) % 3 == 0, "archive-b", atlas.source)
    atlas.save(folder)
    service = Explorer(folder.parent)
    assert "source" in service.map_options("mixed")[1]
    payload = service.map_data("mixed", "pca", "source")
    assert payload["categories"] == ["archive-b", "synthetic"]
    assert [payload["categories"][c] for c in payload["codes"][:4]] == ["archive-b", "synthetic", "synthetic",
                                                                       "archive-b"]
    assert len(set(payload["colours"])) == 2


def test_the_summary_explains_a_sigma_vae_s_negative_elbo_and_names_a_vae_gan(explorer_model, tmp_path):
    import json
    import shutil

    from explorer.service import Explorer

    folder = tmp_path / "models" / "sigma"
    shutil.copytree(explorer_model.directory, folder)
    # BCE: a discrete likelihood
    assert "continuous pixels" not in summary_markdown(Explorer(folder.parent).summary("sigma"))
    meta = json.loads((folder / "config.json").read_text())
    meta["training"]["train_config"]["recon_loss"] = "gaussian"
    (folder / "config.json").write_text(json.dumps(meta))
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["test"]["test_neg_elbo_nats"] = -10621.0  # as the shipped σ-VAE measures it
    (folder / "metrics.json").write_text(json.dumps(metrics))
    text = summary_markdown(Explorer(folder.parent).summary("sigma"))
    assert "−ELBO -10621.0 nats (Gaussian decoder: a density over continuous pixels)" in text
    assert "· VAE ·" in text and "VAE-GAN" not in text
    meta["training"]["train_config"]["adversarial_weight"] = 0.5  # fine-tuned with --adversarial-weight
    (folder / "config.json").write_text(json.dumps(meta))
    text = summary_markdown(Explorer(folder.parent).summary("sigma"))
    assert "· VAE-GAN (a VAE whose decoder also learned against a discriminator) ·" in text
