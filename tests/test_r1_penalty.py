"""The discriminators' R1 penalty: its value, what it does to D, and both trainers using it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from trainer.adversarial import DecoderCritic
from trainer.cli import main
from trainer.losses import lazy_r1_weight, r1_penalty
from trainer.models import VAEConfig

from test_training import ROOT, rows, train

VAE_GAN = ("--preset", "vae-tiny", "--data", "synthetic:300", "--adversarial-weight", 0.5)
DCGAN = ("--preset", "dcgan-tiny", "--data", "synthetic:300")


def test_r1_is_the_squared_input_gradient_and_trains_the_discriminator():
    torch.manual_seed(0)
    w = torch.randn(3 * 4 * 4, requires_grad=True)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    penalty = r1_penalty(x.flatten(1) @ w, x)  # a linear D: ∇ₓ D(x) = w for every image
    assert torch.allclose(penalty, w.pow(2).sum())
    gradient, = torch.autograd.grad(penalty, w)  # the graph is kept: D's weights learn from it
    assert torch.allclose(gradient, 2 * w)


def test_lazy_r1_regularises_every_interval_steps_with_the_same_pull_on_average():
    weights = [lazy_r1_weight(2.0, 16, step) for step in range(48)]
    assert [s for s, w in enumerate(weights) if w] == [0, 16, 32]
    assert set(weights) == {0.0, 16.0} and sum(weights) == 48 * 2.0 / 2  # γ/2 per step on average
    assert [lazy_r1_weight(2.0, 1, step) for step in range(3)] == [1.0, 1.0, 1.0]
    assert lazy_r1_weight(0.0, 4, 0) == 0.0


def _no_autocast():
    return torch.autocast("cpu", enabled=False)


def _input_gradient_after_training(r1_gamma: float) -> tuple[float, float]:
    """‖∇ₓ D(x)‖² at the real faces after 30 steps of a VAE-GAN critic on fixed real and fake batches, and
    the R1 figure its last step reported."""
    torch.manual_seed(0)
    real = torch.rand(16, 3, 16, 16).clamp(0.3, 0.7)
    fakes = torch.rand(16, 3, 16, 16)
    critic = DecoderCritic(VAEConfig(image_size=16, hidden_channels=(8, 16)), torch.device("cpu"), False, 2e-3, (0.5, 0.999), {})
    for _ in range(30):
        reported = critic.update(real, fakes, _no_autocast, r1_gamma / 2).r1
    x = (real * 2 - 1).requires_grad_(True)
    return r1_penalty(critic.discriminator(x), x).item(), None if reported is None else reported.item()


def test_r1_keeps_the_discriminator_flat_around_real_faces():
    free, reported_free = _input_gradient_after_training(0.0)
    flat, reported_flat = _input_gradient_after_training(10.0)
    assert reported_free is None and reported_flat > 0  # the figure the trainer logs
    assert flat < 0.2 * free


def test_a_vae_gan_with_r1_logs_it_and_trains_differently(tmp_path):
    assert train(tmp_path / "r1", *VAE_GAN, "--r1-gamma", 10) == 0
    assert train(tmp_path / "plain", *VAE_GAN) == 0
    assert all(float(r["train_r1"]) > 0 for r in rows(tmp_path / "r1"))
    assert "train_r1" not in rows(tmp_path / "plain")[0]
    a, b = (load_file(tmp_path / r / "checkpoint/model.safetensors") for r in ("r1", "plain"))
    assert not all(torch.equal(a[k], b[k]) for k in a)  # through D, the penalty reaches the decoder
    assert main(["export", "--run", str(tmp_path / "r1"), "--out", str(tmp_path / "shipped")]) == 0
    assert "R1 penalty γ/2·‖∇ₓD(x)‖² on real faces, γ = 10" in (tmp_path / "shipped/MODEL_CARD.md").read_text()


def test_a_dcgan_run_may_switch_r1_on_when_resumed(tmp_path):
    assert train(tmp_path / "run", *DCGAN, "--epochs", 1) == 0
    assert train(tmp_path / "plain", *DCGAN, "--epochs", 2) == 0
    assert train(tmp_path / "run", "--resume", "--epochs", 2, "--r1-gamma", 1) == 0
    history = rows(tmp_path / "run")
    assert history[0]["train_r1"] == "" and float(history[1]["train_r1"]) > 0
    a, b = (load_file(tmp_path / r / "checkpoint/model.safetensors") for r in ("run", "plain"))
    assert not all(torch.equal(a[k], b[k]) for k in a)
    assert main(["export", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "shipped")]) == 0
    assert "γ = 1 (Mescheder et al. 2018)" in (tmp_path / "shipped/MODEL_CARD.md").read_text()


def test_lazy_r1_logs_the_penalty_of_the_steps_that_had_it_and_the_card_says_so(tmp_path):
    assert train(tmp_path / "lazy", *DCGAN, "--epochs", 2, "--r1-gamma", 1, "--r1-interval", 4) == 0
    assert train(tmp_path / "every", *DCGAN, "--epochs", 2, "--r1-gamma", 1) == 0
    assert all(float(r["train_r1"]) > 0 for r in rows(tmp_path / "lazy"))
    a, b = (load_file(tmp_path / r / "checkpoint/model.safetensors") for r in ("lazy", "every"))
    assert not all(torch.equal(a[k], b[k]) for k in a)  # the skipped steps trained D without it
    assert main(["export", "--run", str(tmp_path / "lazy"), "--out", str(tmp_path / "shipped")]) == 0
    assert "applied lazily every 4 steps with weight ×4" in (tmp_path / "shipped/MODEL_CARD.md").read_text()


@pytest.mark.parametrize("args,message", [
    (["--preset", "vae-tiny", "--data", "synthetic:100", "--r1-gamma", "1"], "a VAE has one only with"),
    ([*DCGAN, "--r1-gamma", "-1"], "r1_gamma must be >= 0"),
    ([*DCGAN, "--r1-gamma", "1", "--r1-interval", "0"], "r1_interval must be >= 1"),
    ([*DCGAN, "--r1-interval", "16"], "set --r1-gamma too"),
])
def test_bad_r1_settings_give_one_line_errors(tmp_path, capsys, args, message):
    assert train(tmp_path / "run", *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error:") and message in err[-1] and "Traceback" not in "\n".join(err)


@pytest.mark.slow  # two torchrun workers, ≈ 9 s each: make test-all
@pytest.mark.parametrize("args,message", [
    ([*DCGAN, "--r1-gamma", "1"], "--r1-gamma trains on one process"),
    ([*map(str, VAE_GAN), "--r1-gamma", "1"], "--adversarial-weight trains on one process"),
])
def test_double_backward_options_refuse_torchrun_with_one_line(tmp_path, args, message):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "trainer", "train", *args,
         "--out", str(tmp_path / "ddp"), "--no-cache", "--epochs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert f"error: {message}: run it without torchrun" in result.stderr, result.stderr[-2000:]
