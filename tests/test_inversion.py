"""The DCGAN's inversion encoder: trained after the GAN, stored in its folder, used by the embed step."""

import json
import shutil

import numpy as np
import pytest
import torch

from trainer.cli import main
from trainer.data import load_image_data
from trainer.models import DCGAN, INVERSION_DIR, DCGANConfig, InversionEncoder
from trainer.models.atlas import AtlasError, load_atlas
from webui.wording import summary_markdown

DATA = "synthetic:400"


@pytest.fixture(scope="module")
def inverted(tmp_path_factory):
    # A generator whose output depends strongly on z, without a long GAN training: a random DCGAN with a
    # louder output layer and BatchNorm statistics calibrated on a few batches (straight from the N(0, 0.02)
    # init its eval-mode output is nearly flat grey, and there would be nothing to invert).
    checkpoint = tmp_path_factory.mktemp("gan") / "checkpoint"
    torch.manual_seed(0)
    gan = DCGAN(DCGANConfig(image_size=16, latent_dim=8, generator_width=16, discriminator_width=16)).train()
    for module in gan.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the calibration batches
    with torch.no_grad():
        gan.generator.net[-2].weight.mul_(10)
        for _ in range(8):
            gan.generator(torch.randn(64, 8))
    gan.save_pretrained(checkpoint)
    assert main(["invert", "--checkpoint", str(checkpoint), "--data", DATA, "--synthetic-steps", "250",
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
    assert z.shape == (len(x), 8) and logvar.shape == z.shape
    assert inverted_error < 0.8 * random_error
    meta = json.loads((inverted / INVERSION_DIR / "config.json").read_text())
    assert meta["model_type"] == "dcgan_inversion" and meta["inversion"]["metrics"]["test_images"] == len(x)
    # On generated faces the encoder recovers z far better than guessing the prior mean (MSE 1).
    assert meta["inversion"]["metrics"]["generated_latent_mse"] < 0.5


def test_embed_uses_the_inversion_encoder(inverted):
    assert main(["embed", "--checkpoint", str(inverted), "--data", DATA, "--maps", "pca", "--no-cache",
                 "--min-tag-count", "10"]) == 0
    atlas = load_atlas(inverted)
    assert atlas.mu.shape == (400, 8) and not atlas.kl_per_dim.any()  # a GAN has no posterior to measure
    assert atlas.pca_components.shape[1] == 8 and "inversion_sha256" in atlas.manifest["checkpoint"]


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
    DCGAN(DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8)).save_pretrained(gan_dir)
    assert main(["embed", "--checkpoint", str(gan_dir), "--data", DATA, "--no-cache"]) == 2
    assert "python -m trainer invert" in capsys.readouterr().err


def test_explorer_refines_a_dcgan_reconstruction(inverted, tmp_path):
    from explorer.model import ExplorerModel

    copy = tmp_path / "gan"
    shutil.copytree(inverted, copy)
    assert main(["embed", "--checkpoint", str(copy), "--data", DATA, "--maps", "pca", "--no-cache",
                 "--min-tag-count", "10"]) == 0
    explorer = ExplorerModel(copy)
    # A face the generator can make, so a perfect inversion exists and refinement can only get closer to it.
    target = explorer.decode(explorer.random_latent(3)).astype(float)
    image = target.astype(np.uint8).transpose(2, 0, 1)
    errors = {steps: ((explorer.decode(explorer.encode(image, refine_steps=steps)) - target) ** 2).mean()
              for steps in (0, 40)}
    assert errors[40] < 0.25 * errors[0], errors
    assert np.array_equal(explorer.encode(image), explorer.encode(image, refine_steps=40))  # the default


def test_every_explorer_operation_works_on_a_dcgan(inverted, tmp_path):
    """The app's core over a DCGAN folder: PCA sliders, faces, upload reconstruction, the map, evaluation."""
    import io

    from PIL import Image

    from explorer.service import Explorer

    copy = tmp_path / "models" / "gan"
    shutil.copytree(inverted, copy)
    assert main(["embed", "--checkpoint", str(copy), "--data", DATA, "--maps", "pca", "umap", "--no-cache",
                 "--min-tag-count", "10"]) == 0
    explorer = Explorer(tmp_path / "models", data=[])
    sliders = explorer.sliders("gan")
    assert sliders[0].name.startswith("PC1 (") and sliders[0].kind == "pca"
    base = explorer.random_base("gan", 5)
    still, _ = explorer.face("gan", base, [0.0] * len(sliders))
    moved, _ = explorer.face("gan", base, [3.0] + [0.0] * (len(sliders) - 1))
    assert still.shape == (16, 16, 3) and np.abs(moved.astype(int) - still.astype(int)).mean() > 1
    buffer = io.BytesIO()
    Image.fromarray(still).save(buffer, format="PNG")
    result = explorer.reconstruct("gan", buffer.getvalue())
    assert result.reconstruction.shape == (16, 16, 3) and result.psnr > 10
    payload = explorer.map_data("gan", "umap", "hair")
    assert payload["count"] == len(explorer.model("gan").atlas)
    latent, face, label = explorer.point("gan", 0)
    assert latent.shape == (8,) and face.shape == (16, 16, 3) and label
    assert "DCGAN" in summary_markdown(explorer.summary("gan"))
    assert main(["evaluate", "--checkpoint", str(copy), "--data", DATA, "--num-samples", "12", "--no-cache"]) == 0
    evaluation = json.loads((copy / "metrics.json").read_text())["evaluation"]
    assert evaluation["reconstruction"]["encoder"].startswith("inversion encoder")
    summary = summary_markdown(Explorer(tmp_path / "models", data=[]).summary("gan"))
    assert f"FID {evaluation['generation']['fid']:.1f}" in summary


def test_inverting_a_shipped_folder_documents_the_encoder_in_its_card(inverted, tmp_path):
    copy = tmp_path / "gan"
    shutil.copytree(inverted, copy)
    (copy / "MODEL_CARD.md").write_text("# gan\n\n## Reproduce\n\n```bash\n…\n```\n")
    assert main(["invert", "--checkpoint", str(copy), "--data", DATA, "--synthetic-steps", "20", "--real-steps",
                 "10", "--batch-size", "16", "--no-cache"]) == 0
    card = (copy / "MODEL_CARD.md").read_text()
    assert card.index("## Inversion encoder") < card.index("## Reproduce")
    assert "--synthetic-steps 20 --real-steps 10 --batch-size 16" in card and "PSNR" in card
