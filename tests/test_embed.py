"""The embed step on a tiny VAE trained on synthetic faces with known factors."""

import json
import shutil

import numpy as np
import pytest
import torch

from trainer.cli import main
from trainer.data import load_image_data
from trainer.models import ConvVAE
from trainer.models.atlas import AtlasError, load_atlas
from trainer.models.checkpoint import sha256_of_file

DATA = "synthetic:1200"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    run = tmp_path_factory.mktemp("embed") / "run"
    assert main(["train", "--preset", "vae-tiny", "--data", DATA, "--epochs", "8", "--out", str(run), "--no-cache"]) == 0
    checkpoint = run / "checkpoint"
    assert main(["embed", "--checkpoint", str(checkpoint), "--data", DATA, "--no-cache", "--min-tag-count", "20",
                 "--clusters", "6"]) == 0
    return checkpoint


def test_every_field_is_present_and_consistent(embedded):
    atlas = load_atlas(embedded)
    n, dim = len(atlas), 16
    assert n == 1200 and len(set(atlas.ids)) == n
    assert atlas.mu.shape == (n, dim) and atlas.mu.dtype == np.float16
    for name in ("umap", "tsne", "pca"):
        assert atlas.maps[name].shape == (n, 2) and np.isfinite(atlas.maps[name]).all()
        assert atlas.maps[name].std(0).min() > 0  # a real spread, not a collapsed map
    assert atlas.cluster.shape == (n,) and set(np.unique(atlas.cluster)) == set(range(6))
    assert atlas.cluster_centres.shape == (6, dim)
    assert atlas.kl_per_dim.shape == atlas.mu_std.shape == (dim,) and (atlas.kl_per_dim >= 0).all()
    assert set(atlas.tags) == {"hair", "eyes"} and all(len(v) == n for v in atlas.tags.values())
    assert 0.15 < atlas.is_test.mean() < 0.25 and set(atlas.source) == {"synthetic"}
    m = len(atlas.direction_names)
    assert atlas.direction_vectors.shape == (m, dim) and len(atlas.direction_scores) == m
    assert np.allclose(np.linalg.norm(atlas.direction_vectors, axis=1), 1, atol=1e-4)
    assert atlas.pca_components.shape[1] == dim and np.all(np.diff(atlas.pca_explained) <= 1e-6)
    timings = atlas.manifest["timings_s"]
    assert {"encode", "umap", "tsne", "pca", "clusters", "directions"} <= set(timings)


def test_mu_matches_the_encoder(embedded):
    atlas = load_atlas(embedded)
    vae = ConvVAE.from_pretrained(embedded)
    data = load_image_data([DATA], 16, 3)
    with torch.no_grad():
        mu = vae.encode(data.images[:20].float() / 255)[0].numpy()
    assert list(atlas.ids[:20]) == data.ids[:20]
    assert np.abs(atlas.mu[:20].astype(np.float32) - mu).max() < 0.05 * (np.abs(mu).max() + 1)


def test_learned_directions_follow_the_known_factors(embedded):
    atlas = load_atlas(embedded)
    data = load_image_data([DATA], 16, 3)
    names = list(atlas.direction_names)
    test = atlas.is_test
    latents = atlas.mu.astype(np.float32)
    # A continuous factor: projecting held-out faces onto the learned direction tracks their true face size.
    size_direction = atlas.direction_vectors[names.index("factor: face_size")]
    correlation = np.corrcoef(latents[test] @ size_direction, data.factors[test, 2])[0, 1]
    assert correlation > 0.7
    # A tag: "hair: blue" separates blue-haired held-out faces from the rest.
    blue = atlas.direction_vectors[names.index("hair: blue")]
    is_blue = np.array(data.tags["hair"]) == "blue"
    assert (latents[test & is_blue] @ blue).mean() > (latents[test & ~is_blue] @ blue).mean() + 0.5
    hair_scores = [s for n, s in zip(names, atlas.direction_scores) if n.startswith("hair:")]
    assert min(hair_scores) > 0.75


def test_manifest_names_the_checkpoint_and_data(embedded):
    manifest = json.loads((embedded / "atlas.json").read_text())
    assert manifest["checkpoint"]["weights_sha256"] == sha256_of_file(embedded / "model.safetensors")
    assert manifest["checkpoint"]["weights_sha256"] == json.loads((embedded / "config.json").read_text())["weights_sha256"]
    assert manifest["data"]["sources"][0]["spec"] == DATA and manifest["data"]["images"] == 1200


def test_a_stale_atlas_is_detected(embedded, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(embedded, copy)
    vae = ConvVAE.from_pretrained(copy)
    with torch.no_grad():
        vae.decoder_dense.bias.add_(0.01)  # the checkpoint changes after embedding
    vae.save_pretrained(copy)
    with pytest.raises(AtlasError, match="stale atlas"):
        load_atlas(copy)
    assert load_atlas(copy, check_fresh=False).mu.shape[0] == 1200


def test_missing_atlas_and_bad_arguments(tmp_path, embedded, capsys):
    with pytest.raises(AtlasError, match="no atlas"):
        load_atlas(tmp_path)
    assert main(["embed", "--checkpoint", str(embedded), "--data", DATA, "--maps", "mds", "--no-cache"]) == 2
    assert "unknown map" in capsys.readouterr().err
    assert main(["embed", "--checkpoint", str(tmp_path / "none"), "--data", DATA]) == 2
    assert "not found" in capsys.readouterr().err
