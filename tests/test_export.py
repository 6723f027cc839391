"""From a training run to a shipped checkpoint folder."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from stand_in_features import stand_in_inception
from trainer import artifacts
from trainer.cli import main
from trainer.models import ConvVAE, load_model
from trainer.session import fixed_latent
from trainer.models.atlas import load_atlas


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    assert main(["train", "--preset", "vae-tiny", "--data", "synthetic:300", "--epochs", "2", "--out", str(out),
                 "--no-cache"]) == 0
    return out


def test_export_writes_a_complete_folder_without_dataset_images(run, tmp_path):
    shipped = tmp_path / "vae-tiny"
    assert main(["export", "--run", str(run), "--out", str(shipped)]) == 0
    names = {p.name for p in shipped.iterdir()}
    assert {"config.json", "model.safetensors", "evolution.png", "evolution.json", "samples.png", "loss_curves.png",
            "training_metrics.csv", "metrics.json", "MODEL_CARD.md"} <= names
    assert not any("recon" in n for n in names)  # reconstructions show dataset images: never shipped
    meta = json.loads((shipped / "config.json").read_text())
    assert meta["weights_dtype"] == "float16" and meta["training"]["epochs"] == 2
    evolution = json.loads((shipped / "evolution.json").read_text())
    assert evolution["rows"] == [0, 1, 2]
    metrics = json.loads((shipped / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and 0 < metrics["test"]["test_mse"] < 1 and metrics["test"]["test_psnr"] > 5
    assert metrics["storage_max_pixel_error"] < 0.01
    card = (shipped / "MODEL_CARD.md").read_text()
    assert "python -m trainer train --preset vae-tiny --data synthetic:300 --epochs 2" in card
    assert f"{metrics['test']['test_psnr']:.4g}" in card
    assert "`latent_prior.safetensors`" in card and "below zero" not in card  # BCE: no continuous density
    trained, loaded = ConvVAE.from_pretrained(run / "checkpoint"), ConvVAE.from_pretrained(shipped)
    z = torch.randn(3, 16)
    assert (trained.decode(z) - loaded.decode(z)).abs().max() < 0.01


def test_exported_samples_are_drawn_by_the_stored_weights(tmp_path):
    run, shipped = tmp_path / "run", tmp_path / "dcgan-tiny"
    assert main(["train", "--preset", "dcgan-tiny", "--data", "synthetic:300", "--epochs", "2", "--out", str(run),
                 "--no-cache"]) == 0
    assert main(["export", "--run", str(run), "--out", str(shipped)]) == 0
    model = load_model(shipped)
    with torch.no_grad():
        expected = artifacts.grid_image(model.decode(fixed_latent(0, 16, model.latent_dim)))
    pixels = np.asarray(Image.open(shipped / "samples.png"))
    assert np.array_equal(pixels, np.asarray(expected))
    # The run's last grid had the average's averaged BatchNorm statistics; the shipped generator re-measured them.
    assert not np.array_equal(pixels, np.asarray(Image.open(run / "samples/epoch_002.png")))


def test_export_refuses_to_replace_a_better_model_and_drops_a_stale_atlas(run, tmp_path, capsys):
    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(run), "--out", str(shipped)]) == 0
    assert main(["embed", "--checkpoint", str(shipped), "--data", "synthetic:300", "--maps", "pca", "--no-cache",
                 "--min-tag-count", "5"]) == 0
    assert load_atlas(shipped).mu.shape == (300, 16)
    assert main(["export", "--run", str(run), "--out", str(shipped)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["export", "--run", str(run), "--out", str(shipped), "--force"]) == 0
    assert load_atlas(shipped).mu.shape == (300, 16)  # same weights again: the atlas stays valid
    assert main(["export", "--run", str(run), "--out", str(shipped), "--force", "--dtype", "float32"]) == 0
    assert not (shipped / "atlas.npz").exists()  # it described the old weights
    assert json.loads((shipped / "config.json").read_text())["weights_dtype"] == "float32"


def test_export_of_a_folder_that_is_no_run(tmp_path, capsys):
    assert main(["export", "--run", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "is not a training run folder" in capsys.readouterr().err


def test_a_re_export_keeps_note_and_evaluation_of_unchanged_weights(run, tmp_path):
    shipped = tmp_path / "noted"
    assert main(["export", "--run", str(run), "--out", str(shipped), "--note", "the loss had flattened"]) == 0
    assert "- why 2 epochs: the loss had flattened" in (shipped / "MODEL_CARD.md").read_text()
    with stand_in_inception():
        assert main(["evaluate", "--checkpoint", str(shipped), "--data", "synthetic:300", "--num-samples", "10",
                     "--no-cache"]) == 0
    evaluation = json.loads((shipped / "metrics.json").read_text())["evaluation"]
    assert main(["export", "--run", str(run), "--out", str(shipped), "--force"]) == 0
    again = json.loads((shipped / "metrics.json").read_text())
    assert again["note"] == "the loss had flattened" and again["evaluation"] == evaluation
    card = (shipped / "MODEL_CARD.md").read_text()
    assert "## Evaluation" in card and "- why 2 epochs" in card
    assert main(["export", "--run", str(run), "--out", str(shipped), "--force", "--dtype", "float32"]) == 0
    assert "evaluation" not in json.loads((shipped / "metrics.json").read_text())  # other weights now


def test_export_records_the_commit_that_trained_the_weights(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    config_path = copy / "checkpoint" / "config.json"
    meta = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**meta, "git_commit": "0123456789abcdef"}))  # as if trained elsewhere
    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(copy), "--out", str(shipped)]) == 0
    assert json.loads((shipped / "config.json").read_text())["git_commit"] == "0123456789abcdef"
    assert "commit `0123456789abcdef`" in (shipped / "MODEL_CARD.md").read_text()


def test_the_card_of_a_sigma_vae_names_its_likelihood(run, tmp_path):
    sigma_run = tmp_path / "run"
    shutil.copytree(run, sigma_run)
    config_path = sigma_run / "run_config.json"
    config = json.loads(config_path.read_text())
    config["train"].update(recon_loss="gaussian", recon_reduction="sum", beta_kl=1.0)
    config_path.write_text(json.dumps(config))
    assert main(["export", "--run", str(sigma_run), "--out", str(tmp_path / "shipped")]) == 0
    card = (tmp_path / "shipped" / "MODEL_CARD.md").read_text()
    assert "σ-VAE, Rybkin et al. 2021" in card and "β = 1\n" in card and "goes below zero" in card
