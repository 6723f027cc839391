"""The VAE's weight average (``--ema-decay`` on a VAE): exact resume, BatchNorm measured for the averaged
weights, what export ships, and that it never changes training."""

import json
from contextlib import nullcontext

import torch
from safetensors.torch import load_file

from trainer.cli import main
from trainer.ema import weight_average
from trainer.models import ConvVAE, VAEConfig
from trainer.run_dir import RunDir
from trainer.vae_average import SHIPPED_KEY, STATE_KEY, recalibrated_vae, recalibration_indices

from test_training import rows, train

TINY = ("--preset", "vae-tiny", "--data", "synthetic:300")


def optimizer_states(run):
    return RunDir.load_training_state(run / "checkpoint")["optimizers"]


def test_the_average_resumes_exactly_never_changes_training_and_is_what_export_ships(tmp_path):
    assert train(tmp_path / "plain", *TINY, "--epochs", 2) == 0
    assert train(tmp_path / "straight", *TINY, "--epochs", 2, "--ema-decay", 0.9) == 0
    assert train(tmp_path / "resumed", *TINY, "--epochs", 1, "--ema-decay", 0.9) == 0
    assert train(tmp_path / "resumed", "--resume", "--epochs", 2) == 0

    raw = load_file(tmp_path / "straight/checkpoint/model.safetensors")
    plain = load_file(tmp_path / "plain/checkpoint/model.safetensors")
    assert all(torch.equal(raw[k], plain[k]) for k in raw)  # the average only watches
    straight, resumed = optimizer_states(tmp_path / "straight"), optimizer_states(tmp_path / "resumed")
    steps = json.loads((tmp_path / "straight/summary.json").read_text())["global_step"]
    assert int(straight[STATE_KEY]["n_averaged"]) == steps  # one update per step
    shipped_state = straight[SHIPPED_KEY]
    assert all(torch.equal(shipped_state[k], resumed[SHIPPED_KEY][k]) for k in shipped_state)
    assert not torch.equal(shipped_state["decoder.0.weight"], raw["decoder.0.weight"])  # an average, not the VAE

    # The epoch's test figures are the average's: they differ from the same run without one.
    assert rows(tmp_path / "straight")[-1]["test_mse"] != rows(tmp_path / "plain")[-1]["test_mse"]

    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(tmp_path / "straight"), "--out", str(shipped), "--dtype", "float32"]) == 0
    exported = load_file(shipped / "model.safetensors")
    assert exported.keys() == shipped_state.keys()
    assert all(torch.equal(exported[k], shipped_state[k].float()) for k in exported if exported[k].is_floating_point())
    config = json.loads((shipped / "config.json").read_text())
    weights = config["vae_weights"]
    assert "moving average of the VAE's weights" in weights and f"{steps:,} updates" in weights
    assert f"re-measured on {config['data']['train_images']} training faces" in weights  # all of them, < 25,600
    assert "- weights: exponential moving average" in (shipped / "MODEL_CARD.md").read_text()


def test_batchnorm_is_measured_for_the_averaged_weights_on_training_faces():
    torch.manual_seed(0)
    vae = ConvVAE(VAEConfig(image_size=16, latent_dim=4, hidden_channels=(8, 16), dense_dim=32))
    average = weight_average(vae, decay=0.5)
    images = torch.randint(0, 256, (40, 3, 16, 16), dtype=torch.uint8)
    for _ in range(3):  # move the weights and the running statistics, so the two disagree
        with torch.no_grad():
            vae(torch.rand(8, 3, 16, 16) * 0.2)
            for p in vae.parameters():
                p.add_(0.05 * torch.randn_like(p))
        average.update_parameters(vae)

    indices = recalibration_indices(torch.arange(40), seed=0, limit=32)
    assert len(indices) == 32 and len(set(indices.tolist())) == 32
    assert torch.equal(indices, recalibration_indices(torch.arange(40), seed=0, limit=32))  # same every epoch
    first = recalibrated_vae(average, images, indices, 0, nullcontext)
    again = recalibrated_vae(average, images, indices, 0, nullcontext)
    statistic = "encoder.0.1.running_mean"
    assert not first.training
    assert torch.equal(first.state_dict()[statistic], again.state_dict()[statistic])  # seeded: repeats exactly
    # The exact mean over the chosen faces of the first BatchNorm's input, not the averaged running statistic.
    with torch.no_grad():
        x = images[indices].float() / 255
        expected = first.encoder[0][0](x).mean((0, 2, 3))
    assert torch.allclose(first.state_dict()[statistic], expected, atol=1e-5)
    assert not torch.allclose(average.module.state_dict()[statistic], expected, atol=1e-3)
    # The average keeps its own statistics (it goes on averaging them); the copy's weights are the average's.
    assert torch.equal(first.state_dict()["decoder.0.weight"], average.module.state_dict()["decoder.0.weight"])
