"""The learning-rate decay: the schedule itself, and runs that use it (straight, resumed, switched on at resume)."""

import json

import pytest
import torch
from safetensors.torch import load_file

from trainer.cli import main
from trainer.lr_schedule import lr_factor


def train(out, *args):
    return main(["train", "--out", str(out), "--no-cache", *map(str, args)])


def final_learning_rates(run):
    state = torch.load(run / "checkpoint/training_state.pt", weights_only=True)
    return {name: [group["lr"] for group in saved["param_groups"]] for name, saved in state["optimizers"].items()
            if "param_groups" in saved}


def test_the_rate_holds_then_falls_linearly_to_zero_over_the_last_epochs():
    assert [lr_factor(p, 10, 0) for p in (0, 5, 9.99)] == [1.0, 1.0, 1.0]
    assert lr_factor(0, 10, 4) == 1.0 and lr_factor(6, 10, 4) == 1.0
    assert lr_factor(7, 10, 4) == pytest.approx(0.75)
    assert lr_factor(8.5, 10, 4) == pytest.approx(0.375)
    assert lr_factor(10, 10, 4) == 0.0
    assert lr_factor(3, 10, 10) == pytest.approx(0.7)


def test_a_decayed_dcgan_run_ends_near_zero_resumes_exactly_and_trains_differently(tmp_path):
    args = ("--preset", "dcgan-tiny", "--data", "synthetic:256", "--batch-size", 32, "--epochs", 3)
    assert train(tmp_path / "decayed", *args, "--lr-decay-epochs", 2) == 0
    assert train(tmp_path / "constant", *args) == 0
    assert train(tmp_path / "resumed", *args[:-1], 1) == 0
    # Switched on when resuming: the schedule depends on the epoch alone, so this matches the straight run.
    assert train(tmp_path / "resumed", "--resume", "--epochs", 3, "--lr-decay-epochs", 2) == 0
    base = 2e-4
    rates = final_learning_rates(tmp_path / "decayed")
    assert set(rates) >= {"generator", "discriminator"}
    # 209 training faces make 6 full batches an epoch: the last step sits 1/6 of an epoch before the end of a
    # 2-epoch decay, at 1/12 of the base rate.
    for name in ("generator", "discriminator"):
        assert rates[name] == [pytest.approx(base * (1 / 6) / 2)]
    assert final_learning_rates(tmp_path / "constant")["generator"] == [pytest.approx(base)]
    weights = {name: load_file(tmp_path / name / "checkpoint/model.safetensors")
               for name in ("decayed", "constant", "resumed")}
    assert all(torch.equal(weights["decayed"][k], weights["resumed"][k]) for k in weights["decayed"])
    assert not all(torch.equal(weights["decayed"][k], weights["constant"][k]) for k in weights["decayed"])
    saved = json.loads((tmp_path / "resumed/run_config.json").read_text())
    assert saved["train"]["lr_decay_epochs"] == 2


def test_a_decay_longer_than_the_run_is_refused(tmp_path, capsys):
    assert train(tmp_path / "run", "--preset", "vae-tiny", "--data", "synthetic:64", "--epochs", 2,
                 "--lr-decay-epochs", 3) == 2
    assert "lr_decay_epochs must lie in 0..epochs" in capsys.readouterr().err


def test_warmup_rises_linearly_from_zero_then_meets_the_decay():
    assert lr_factor(0, 10, 4, 0.5) == 0.0
    assert lr_factor(0.25, 10, 4, 0.5) == pytest.approx(0.5)
    assert [lr_factor(p, 10, 4, 0.5) for p in (0.5, 3, 6)] == [1.0, 1.0, 1.0]
    assert lr_factor(8.5, 10, 4, 0.5) == pytest.approx(0.375)
    assert lr_factor(0.1, 10, 0, 0.2) == pytest.approx(0.5)  # warm-up alone, no decay


def test_a_warmed_up_vae_run_ends_below_the_base_rate_and_trains_differently(tmp_path, capsys):
    args = ("--preset", "vae-tiny", "--data", "synthetic:256", "--batch-size", 32, "--epochs", 2)
    assert train(tmp_path / "warm", *args, "--lr-warmup-epochs", 2) == 0
    assert train(tmp_path / "constant", *args) == 0
    base = 2e-3
    # 209 training faces make 6 full batches an epoch: the last step sits at 1 + 5/6 epochs of a 2-epoch warm-up.
    (rate,) = final_learning_rates(tmp_path / "warm")["vae"]
    assert rate == pytest.approx(base * (1 + 5 / 6) / 2)
    warm, constant = (load_file(tmp_path / name / "checkpoint/model.safetensors") for name in ("warm", "constant"))
    assert not all(torch.equal(warm[k], constant[k]) for k in warm)
    assert train(tmp_path / "refused", *args, "--lr-warmup-epochs", 1.5, "--lr-decay-epochs", 1) == 2
    assert "lr_warmup_epochs must lie in 0..epochs − lr_decay_epochs" in capsys.readouterr().err
