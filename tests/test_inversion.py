"""The DCGAN's inversion encoder: trained after the GAN, stored in its folder, used by the embed step."""

import json
import shutil

import pytest
import torch

from trainer.cli import main
from trainer.data import load_image_data
from trainer.models import DCGAN, INVERSION_DIR, InversionEncoder
from trainer.models.atlas import AtlasError, load_atlas

DATA = "synthetic:400"


@pytest.fixture(scope="module")
def inverted(tmp_path_factory):
    run = tmp_path_factory.mktemp("gan") / "run"
    assert main(["train", "--preset", "dcgan-tiny", "--data", DATA, "--epochs", "4", "--out", str(run), "--no-cache"]) == 0
    checkpoint = run / "checkpoint"
    assert main(["invert", "--checkpoint", str(checkpoint), "--data", DATA, "--synthetic-steps", "150",
                 "--real-steps", "150", "--batch-size", "32", "--no-cache"]) == 0
    return checkpoint


def test_inversion_encoder_reconstructs_better_than_random_codes(inverted):
    gan, encoder = DCGAN.from_pretrained(inverted), InversionEncoder.from_pretrained(inverted / INVERSION_DIR)
    data = load_image_data([DATA], 16, 3)
    x = data.images[data.split_indices("test")].float() / 255
    with torch.no_grad():
        z, logvar = encoder.encode(x)
        inverted_error = (gan.decode(z) - x).pow(2).mean()
        random_error = (gan.decode(torch.randn(z.shape, generator=torch.Generator().manual_seed(0))) - x).pow(2).mean()
    assert z.shape == (len(x), 16) and logvar.shape == z.shape
    assert inverted_error < 0.9 * random_error
    meta = json.loads((inverted / INVERSION_DIR / "config.json").read_text())
    assert meta["model_type"] == "dcgan_inversion" and meta["inversion"]["metrics"]["test_images"] == len(x)


def test_embed_uses_the_inversion_encoder(inverted):
    assert main(["embed", "--checkpoint", str(inverted), "--data", DATA, "--maps", "pca", "--no-cache",
                 "--min-tag-count", "10"]) == 0
    atlas = load_atlas(inverted)
    assert atlas.mu.shape == (400, 16) and not atlas.kl_per_dim.any()  # a GAN has no posterior to measure
    assert atlas.pca_components.shape[1] == 16 and "inversion_sha256" in atlas.manifest["checkpoint"]


def test_a_changed_inversion_encoder_makes_the_atlas_stale(inverted, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(inverted, copy)
    assert main(["embed", "--checkpoint", str(copy), "--data", DATA, "--maps", "pca", "--no-cache",
                 "--min-tag-count", "10"]) == 0
    encoder = InversionEncoder.from_pretrained(copy / INVERSION_DIR)
    with torch.no_grad():
        encoder.head[-1].bias.add_(0.1)
    encoder.save_pretrained(copy / INVERSION_DIR)
    with pytest.raises(AtlasError, match="inversion encoder changed"):
        load_atlas(copy)


def test_embedding_a_gan_without_inversion_says_what_to_run(tmp_path, capsys):
    gan_dir = tmp_path / "gan"
    DCGAN(DCGAN.config_class(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8)).save_pretrained(gan_dir)
    assert main(["embed", "--checkpoint", str(gan_dir), "--data", DATA, "--no-cache"]) == 2
    assert "python -m trainer invert" in capsys.readouterr().err
