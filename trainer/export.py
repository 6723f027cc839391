"""``python -m trainer export``: turn a training run into a shipped checkpoint folder.

The folder gets the weights (fp16 by default: half the size; the decoding error this costs is measured and
recorded), the
per-epoch evolution strip and the final sample grid (model outputs only: reconstructions show dataset
images and stay in the run), loss curves, the per-epoch metrics, ``metrics.json`` and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import torch

from trainer import artifacts
from trainer.atomic import atomic_write_json, atomic_write_text
from trainer.ema import averaged_generator_weights, recalibrate_batchnorm
from trainer.export_card import model_card
from trainer.models import INVERSION_DIR, ConvVAE, load_model, read_checkpoint_config
from trainer.models.atlas import ATLAS_NAME, MANIFEST_NAME
from trainer.models.checkpoint import WEIGHTS_NAME, CheckpointError, sha256_of_file
from trainer.run_dir import RunDir
from trainer.session import fixed_latent
from trainer.vae_average import RECALIBRATION_IMAGES, shipped_vae_weights

log = logging.getLogger("trainer")
DTYPES = {"float16": torch.float16, "float32": torch.float32}


def final_metrics(run: RunDir) -> dict:
    """The last metrics.csv row (figures measured on the test split at the end of the last epoch)."""
    rows = artifacts.MetricsLog(run.metrics).rows()
    if not rows:
        raise CheckpointError(f"{run.root} has no metrics.csv rows: was it trained?")
    return {k: float(v) if _is_number(v) else v for k, v in rows[-1].items() if v != ""}


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def is_better(new: dict, old_path: Path) -> bool:
    """A shipped VAE is replaced only by a lower test MSE (others: by more training epochs)."""
    if not old_path.is_file():
        return True
    old = json.loads(old_path.read_text())
    if "test_mse" in new and "test_mse" in old.get("test", {}):
        return new["test_mse"] < old["test"]["test_mse"]
    return new.get("epoch", 0) > old.get("epochs", 0)


def export_run(run_path: Path, out: Path, dtype: str = "float16", force: bool = False, note: str | None = None,
               next_step_hint: bool = True) -> Path:
    """``note``: why training stopped where it did (shown in the card; kept across re-exports).
    ``next_step_hint``: say which command comes next (not when ``build`` runs it itself)."""
    run = RunDir(run_path)
    if not run.run_config.is_file():
        raise CheckpointError(f"{run_path} is not a training run folder (no run_config.json)")
    checkpoint = run.latest_checkpoint()
    meta = read_checkpoint_config(checkpoint)
    model = load_model(checkpoint)
    training_state = run.load_training_state(checkpoint)
    average = averaged_generator_weights(training_state)
    if average is not None:  # the DCGAN kept a weight average of G: that is the generator to ship
        model.generator.load_state_dict(average[0])
        recalibrated = recalibrate_batchnorm(model.generator, model.latent_dim)
    vae_average = shipped_vae_weights(training_state) if isinstance(model, ConvVAE) else None
    if vae_average is not None:  # the VAE's average, BatchNorm already measured on faces at the epoch's end
        model.load_state_dict(vae_average[0])
    run_config = run.load_run_config()
    figures = final_metrics(run)
    out = Path(out)
    if not force and not is_better(figures, out / "metrics.json"):
        raise CheckpointError(f"{out} already ships a model at least as good; pass --force to replace it")
    out.mkdir(parents=True, exist_ok=True)

    # git_commit: the tree that trained the weights, not the one exporting them
    extra = {k: meta[k] for k in ("training", "data", "git_commit") if k in meta}
    extra["training"] = {**extra.get("training", {}), "wall_time_s": figures.get("wall_time_s",
                         extra.get("training", {}).get("wall_time_s"))}
    if average is not None:
        decay = extra["training"].get("train_config", {}).get("ema_decay")
        since = (", in the last run, which started from the average the run before shipped"
                 if extra["training"].get("continued_from") else "")
        extra["generator_weights"] = f"exponential moving average of G's weights over training (decay {decay}, " \
                                     f"{average[1]:,} updates{since}), not the last step's G; BatchNorm " \
                                     f"statistics re-measured on {recalibrated:,} draws z ~ N(0, I)"
    if vae_average is not None:
        decay = extra["training"].get("train_config", {}).get("ema_decay")
        faces = min(RECALIBRATION_IMAGES, meta.get("data", {}).get("train_images") or RECALIBRATION_IMAGES)
        extra["vae_weights"] = f"exponential moving average of the VAE's weights, encoder and decoder (decay " \
                               f"{decay}, {vae_average[1]:,} updates), not the last step's; BatchNorm statistics " \
                               f"re-measured on {faces:,} training faces"
    old_weights = sha256_of_file(out / WEIGHTS_NAME) if (out / WEIGHTS_NAME).is_file() else None
    old_metrics = _json(out / "metrics.json")
    old_evaluation = old_metrics.get("evaluation")
    model.save_pretrained(out, dtype=DTYPES[dtype], extra=extra)
    if sha256_of_file(out / WEIGHTS_NAME) != old_weights:
        # The atlas and the inversion encoder described the old weights: embed (and invert) again.
        for stale in (ATLAS_NAME, MANIFEST_NAME):
            (out / stale).unlink(missing_ok=True)
        shutil.rmtree(out / INVERSION_DIR, ignore_errors=True)
    shipped = load_model(out)
    storage_error = decode_difference(model, shipped)

    epochs = len(list(run.samples.glob("epoch_*.png")))
    cell = model.config.image_size
    artifacts.save_evolution_strip(run.samples, out / "evolution.png", cell=cell, max_rows=epochs)
    atomic_write_json(out / "evolution.json", {
        "rows": [int(p.stem.split("_")[1]) for p in sorted(run.samples.glob("epoch_*.png"))],
        "cell_size": cell, "padding": 2, "samples_per_row": 8,
        "about": "row i holds the first 8 fixed-latent samples after epoch rows[i] (0 = untrained)",
    })
    # Drawn again rather than copied from the run's last grid: the stored weights are what people get (fp16,
    # and for a DCGAN the average with its BatchNorm statistics re-measured on more draws than the run's grids).
    train = run_config["train"]
    with torch.no_grad():
        samples = shipped.decode(fixed_latent(train["seed"], train["sample_count"], shipped.latent_dim))
    artifacts.save_png(artifacts.grid_image(samples), out / "samples.png")
    for name in ("loss_curves.png",):
        if (run.root / name).is_file():
            shutil.copyfile(run.root / name, out / name)
    shutil.copyfile(run.metrics, out / "training_metrics.csv")

    test_figures = {k: v for k, v in figures.items() if k.startswith("test_")}
    metrics = {
        "epochs": int(figures["epoch"]), "test": test_figures,
        "test_images": meta.get("data", {}).get("test_images"),
        "measured": ("on the test split at the end of the last epoch, fp32 weights, one seeded z per image for "
                     "the loss terms; MSE/PSNR from the reconstruction of μ (pixels in [0, 1])"
                     if meta["model_type"] == "conv_vae" else
                     "on the test split at the end of the last epoch, BatchNorm on each batch's own statistics as in "
                     "training: the losses, and d real / d fake, the discriminator's mean output on real test "
                     "faces and on as many generated ones "
                     "(training diagnostics; sample quality is measured by `python -m trainer evaluate`)"),
        "weights_dtype": dtype,
        "storage_max_pixel_error": storage_error,  # stored vs trained weights, 64 seeded latents, pixels 0..1
    }
    note = note or (old_metrics.get("note") if old_metrics.get("epochs") == metrics["epochs"] else None)
    if note:
        metrics["note"] = note
    if old_evaluation and old_evaluation.get("weights_sha256") == sha256_of_file(out / WEIGHTS_NAME):
        metrics["evaluation"] = old_evaluation  # same weights: the evaluation still describes them
    atomic_write_json(out / "metrics.json", metrics)
    inversion = _json(out / INVERSION_DIR / "config.json").get("inversion")
    atomic_write_text(out / "MODEL_CARD.md", model_card(out.name, read_checkpoint_config(out), run_config, metrics,
                                                        _history(run.metrics), model, inversion))
    log.info("exported %s (epoch %d) to %s", run.root, metrics["epochs"], out)
    if next_step_hint:
        log.info("now run: python -m trainer embed --checkpoint %s %s", out,
                 " ".join(f"--data {d}" for d in run_config["data"]))
    return out


@torch.no_grad()
def decode_difference(trained, shipped, count: int = 64) -> float:
    """Largest pixel difference between faces decoded by the trained and the stored (e.g. fp16) weights."""
    z = torch.randn(count, trained.latent_dim, generator=torch.Generator().manual_seed(0))
    return round(float((trained.eval().decode(z) - shipped.decode(z)).abs().max()), 6)


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _history(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
