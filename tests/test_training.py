"""The real CLI entry points on synthetic faces: learning, artefacts, resume, DDP and clean errors."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from trainer.cli import main
from trainer.models import ConvVAE, DCGAN

ROOT = Path(__file__).resolve().parents[1]


def train(out, *args):
    return main(["train", "--out", str(out), "--no-cache", *map(str, args)])


def rows(run):
    with open(run / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_vae_learns_well_below_the_mean_image(tmp_path):
    run = tmp_path / "vae"
    assert train(run, "--preset", "vae-tiny", "--data", "synthetic:1200", "--epochs", 8) == 0
    summary = json.loads((run / "summary.json").read_text())
    history = rows(run)
    assert len(history) == 8
    assert float(history[-1]["test_loss"]) < float(history[0]["test_loss"])
    assert summary["final"]["test_mse"] < 0.6 * summary["final"]["mean_image_test_mse"]
    # The per-epoch artefacts: the fixed-latent strip from epoch 0, reconstructions, curves, checkpoint.
    assert sorted(p.name for p in (run / "samples").glob("*.png"))[:2] == ["epoch_000.png", "epoch_001.png"]
    assert len(list((run / "samples").glob("*.png"))) == 9
    for name in ("evolution.png", "loss_curves.png", "reconstructions/epoch_008.png"):
        assert (run / name).stat().st_size > 500
    vae = ConvVAE.from_pretrained(run / "checkpoint")
    meta = json.loads((run / "checkpoint" / "config.json").read_text())
    assert meta["training"]["epochs"] == 8 and meta["data"]["sources"][0]["spec"] == "synthetic:1200"
    assert vae.decode(torch.zeros(1, 16)).shape == (1, 3, 16, 16)


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    args = ("--preset", "vae-tiny", "--data", "synthetic:300")
    assert train(tmp_path / "straight", *args, "--epochs", 3) == 0
    assert train(tmp_path / "resumed", *args, "--epochs", 1) == 0
    assert json.loads((tmp_path / "resumed/checkpoint/config.json").read_text())["training"]["epochs"] == 1
    assert train(tmp_path / "resumed", "--resume", "--epochs", 3) == 0
    a = load_file(tmp_path / "straight/checkpoint/model.safetensors")
    b = load_file(tmp_path / "resumed/checkpoint/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert [r["epoch"] for r in rows(tmp_path / "resumed")] == ["1", "2", "3"]
    assert rows(tmp_path / "straight")[-1]["test_loss"] == rows(tmp_path / "resumed")[-1]["test_loss"]


def test_resume_survives_a_crash_during_the_checkpoint_swap(tmp_path):
    run = tmp_path / "run"
    assert train(run, "--preset", "vae-tiny", "--data", "synthetic:200", "--epochs", 1) == 0
    os.replace(run / "checkpoint", run / ".checkpoint-old")  # as if killed between the two renames
    assert train(run, "--resume", "--epochs", 2) == 0
    assert json.loads((run / "checkpoint/config.json").read_text())["training"]["epochs"] == 2


def test_a_background_run_stops_cleanly_on_sigint_and_resumes(tmp_path):
    """Started like ``cmd &`` from a script (SIGINT inherited as ignored), ``kill -INT`` still stops it cleanly."""
    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", "train", "--preset", "vae-tiny", "--data", "synthetic:300", "--epochs",
         "500", "--out", str(run), "--no-cache"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        for line in process.stderr:  # wait until an epoch has been logged (and so checkpointed)
            if re.search(r"epoch 1/500 ", line):
                break
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, rest[-2000:]
    assert "interrupted: the last completed epoch is saved; continue with --resume" in rest
    assert "Traceback" not in rest
    done = json.loads((run / "checkpoint/config.json").read_text())["training"]["epochs"]
    assert 1 <= done < 500
    assert train(run, "--resume", "--epochs", done + 1) == 0


def test_dcgan_trains_and_writes_its_checkpoint(tmp_path):
    run = tmp_path / "gan"
    assert train(run, "--preset", "dcgan-tiny", "--data", "synthetic:600", "--epochs", 3) == 0
    last = rows(run)[-1]
    for key in ("train_d_loss", "train_g_loss", "test_d_real", "test_d_fake"):
        assert torch.isfinite(torch.tensor(float(last[key])))
    gan = DCGAN.from_pretrained(run / "checkpoint")
    samples = gan.sample(4, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (4, 3, 16, 16) and not torch.equal(samples[0], samples[1])
    untrained, trained = (Image.open(run / f"samples/epoch_00{e}.png") for e in (0, 3))
    assert np.abs(np.asarray(untrained, float) - np.asarray(trained, float)).mean() > 1  # G moved
    assert main(["sample", "--checkpoint", str(run / "checkpoint"), "--out", str(tmp_path / "s.png"), "--count", "9"]) == 0
    assert (tmp_path / "s.png").stat().st_size > 200


def test_dcgan_generator_average_resumes_exactly_and_is_what_export_ships(tmp_path):
    from trainer.ema import averaged_generator_weights, recalibrate_batchnorm
    from trainer.run_dir import RunDir

    args = ("--preset", "dcgan-tiny", "--data", "synthetic:300")
    assert train(tmp_path / "straight", *args, "--epochs", 2) == 0
    assert train(tmp_path / "resumed", *args, "--epochs", 1) == 0
    assert train(tmp_path / "resumed", "--resume", "--epochs", 2) == 0
    averages = [averaged_generator_weights(RunDir.load_training_state(tmp_path / r / "checkpoint"))
                for r in ("straight", "resumed")]
    (straight, updates), (resumed, _) = averages
    steps = json.loads((tmp_path / "straight/summary.json").read_text())["global_step"]
    assert updates == steps and straight.keys() == resumed.keys()  # one update per G step
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    raw = load_file(tmp_path / "straight/checkpoint/model.safetensors")
    assert not torch.equal(raw["generator.net.0.weight"], straight["net.0.weight"])  # an average, not G
    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(tmp_path / "straight"), "--out", str(shipped), "--dtype", "float32"]) == 0
    exported = load_file(shipped / "model.safetensors")
    parameters = {name for name, _ in DCGAN.from_pretrained(shipped).generator.named_parameters()}
    assert all(torch.equal(exported[f"generator.{k}"], straight[k]) for k in parameters)
    # BatchNorm's statistics are measured afresh for the averaged weights, not the average of the statistics
    gan = DCGAN.from_pretrained(shipped)
    gan.generator.load_state_dict(straight)
    assert recalibrate_batchnorm(gan.generator, gan.latent_dim) == 25_600
    statistics = [k for k in straight if k.endswith(("running_mean", "running_var"))]
    assert statistics and all(torch.allclose(exported[f"generator.{k}"], gan.generator.state_dict()[k]) for k in statistics)
    assert not all(torch.allclose(exported[f"generator.{k}"], straight[k]) for k in statistics)
    assert "moving average of G" in json.loads((shipped / "config.json").read_text())["generator_weights"]
    assert "re-measured on 25,600 draws" in json.loads((shipped / "config.json").read_text())["generator_weights"]
    assert "- generator: exponential moving average" in (shipped / "MODEL_CARD.md").read_text()


def test_the_generator_average_may_start_on_resume_and_never_changes_training(tmp_path):
    args = ("--preset", "dcgan-tiny", "--data", "synthetic:300", "--ema-decay", "0")
    assert train(tmp_path / "plain", *args, "--epochs", 2) == 0
    assert train(tmp_path / "late", *args, "--epochs", 1) == 0
    assert train(tmp_path / "late", "--resume", "--epochs", 2, "--ema-decay", "0.5") == 0
    a = load_file(tmp_path / "plain/checkpoint/model.safetensors")
    b = load_file(tmp_path / "late/checkpoint/model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    state = torch.load(tmp_path / "late/checkpoint/training_state.pt", weights_only=True)
    steps = json.loads((tmp_path / "late/summary.json").read_text())["global_step"]
    assert int(state["optimizers"]["generator_ema"]["n_averaged"]) == steps // 2  # the second epoch's updates


def test_max_steps_stops_early(tmp_path):
    assert train(tmp_path / "r", "--preset", "vae-tiny", "--data", "synthetic:300", "--max-steps", 3) == 0
    assert json.loads((tmp_path / "r/summary.json").read_text())["global_step"] == 3


@pytest.mark.parametrize("args,message", [
    (["--preset", "vae-tiny", "--data", "/no/such/data"], "data source not found"),
    (["--preset", "vae-tiny", "--data", "synthetic:100", "--epochs", "0"], "epochs must be >= 1"),
    (["--preset", "vae-tiny", "--data", "synthetic:100", "--generator-width", "8"], "not used by preset"),
    (["--preset", "vae-tiny", "--data", "synthetic:100", "--device", "tpu"], "unknown device"),
    (["--preset", "vae-tiny", "--data", "synthetic:10"], "fewer than one batch"),
    (["--data", "synthetic:100"], "--preset is required"),
    (["--resume"], "nothing to resume"),
])
def test_bad_arguments_give_one_line_errors(tmp_path, capsys, args, message):
    assert train(tmp_path / "run", *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error:") and message in err[-1] and "Traceback" not in "\n".join(err)


def test_an_existing_run_is_never_overwritten_and_resume_refuses_changes(tmp_path, capsys):
    run = tmp_path / "run"
    assert train(run, "--preset", "vae-tiny", "--data", "synthetic:200", "--epochs", 1) == 0
    before = (run / "checkpoint/model.safetensors").read_bytes()
    assert train(run, "--preset", "vae-tiny", "--data", "synthetic:200") == 2
    assert "--resume" in capsys.readouterr().err
    assert train(run, "--resume", "--latent-dim", 4) == 2
    assert "cannot change --latent-dim" in capsys.readouterr().err
    assert (run / "checkpoint/model.safetensors").read_bytes() == before


def test_unknown_option_is_rejected():
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", "x", "--preset", "vae-tiny", "--latent-size", "3"])
    assert exit_info.value.code == 2


@pytest.mark.slow  # two torchrun workers, ≈ 10 s each: make test-all
@pytest.mark.parametrize("preset", ["vae-tiny", "dcgan-tiny"])
def test_torchrun_two_processes_end_with_identical_weights(tmp_path, preset):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "trainer", "train", "--preset", preset,
         "--data", "synthetic:300", "--out", str(run), "--no-cache", "--epochs", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["world_size"] == 2 and len(summary["rank_weight_checksums"]) == 2
    assert summary["ranks_in_sync"], summary["rank_weight_checksums"]


@pytest.mark.parametrize("preset", ["vae-tiny", "dcgan-tiny"])
def test_init_from_a_shipped_checkpoint_goes_on_from_its_weights_epochs_and_history(tmp_path, preset):
    assert train(tmp_path / "first", "--preset", preset, "--data", "synthetic:300", "--epochs", 2) == 0
    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(tmp_path / "first"), "--out", str(shipped)]) == 0  # fp16 weights
    second = tmp_path / "second"
    # A vanishing learning rate: the continued weights must still be the shipped ones (preset and data come
    # from the checkpoint); Adam moves each weight by about lr per step.
    assert train(second, "--init-from", shipped, "--epochs", 3, "--learning-rate", 1e-12) == 0
    stored, continued = (load_file(p / "model.safetensors") for p in (shipped, second / "checkpoint"))
    parameters = [k for k in stored if k.endswith(("weight", "bias"))]  # BatchNorm statistics still move
    assert len(parameters) > 4 and all(torch.allclose(continued[k], stored[k].float(), rtol=0, atol=1e-9) for k in parameters)
    history = rows(second)
    first_steps = json.loads((tmp_path / "first/summary.json").read_text())["global_step"]
    assert [int(r["epoch"]) for r in history] == [1, 2, 3] and int(history[1]["global_step"]) == first_steps
    assert int(history[2]["global_step"]) == 3 * first_steps // 2
    assert sorted(p.name for p in (second / "samples").glob("*.png")) == [f"epoch_00{e}.png" for e in range(4)]
    meta = json.loads((second / "checkpoint/config.json").read_text())
    origin = meta["training"]["continued_from"]
    assert [(o["epochs"], o["weights_sha256"]) for o in origin] == [
        (2, json.loads((shipped / "config.json").read_text())["weights_sha256"])]
    # A resumed continuation keeps its lineage, and the exported card tells both runs and how to redo them.
    assert train(second, "--resume", "--epochs", 4) == 0
    assert json.loads((second / "checkpoint/config.json").read_text())["training"]["continued_from"] == origin
    assert main(["export", "--run", str(second), "--out", str(shipped)]) == 0
    card = (shipped / "MODEL_CARD.md").read_text()
    assert "trained in 2 runs (epochs 1–2, 3–4)" in card
    assert "python -m trainer train --init-from checkpoints/shipped --epochs 4 --learning-rate 1e-12 --out runs/shipped-2" in card
    cell = json.loads((shipped / "evolution.json").read_text())
    assert cell["rows"] == [0, 1, 2, 3, 4]
    assert Image.open(shipped / "evolution.png").height == 2 + 5 * (cell["cell_size"] + 2)


def test_init_from_refuses_what_cannot_continue(tmp_path, capsys):
    assert train(tmp_path / "first", "--preset", "vae-tiny", "--data", "synthetic:200", "--epochs", 2) == 0
    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(tmp_path / "first"), "--out", str(shipped)]) == 0
    for args, message in [
        (["--init-from", shipped, "--epochs", 2], "--epochs must be more than that"),
        (["--init-from", shipped, "--epochs", 3, "--latent-dim", 4], "cannot change --latent-dim"),
        (["--init-from", shipped, "--epochs", 3, "--preset", "dcgan-tiny"], "not dcgan-tiny"),
        (["--init-from", shipped, "--resume"], "pass only one"),
        (["--init-from", tmp_path / "nowhere", "--epochs", 3], "checkpoint folder not found"),
    ]:
        assert train(tmp_path / "second", *args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error:") and message in err[-1], err
    assert not (tmp_path / "second/checkpoint").exists()
