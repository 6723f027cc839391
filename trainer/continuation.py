"""``train --init-from CHECKPOINT``: go on training a shipped model in a new run.

A run folder (``runs/``) is never committed, so its optimizer state can be lost between machines; the shipped
folder still holds the weights (for a DCGAN: the generator's weight average and D), the per-epoch metrics and
the evolution strip. A continuation starts from those weights with fresh optimizer state, keeps counting the
checkpoint's epochs (so the data order goes on where it stopped), and inherits its history, so that the
exported folder tells the whole story. Every continuation is recorded in ``training.continued_from``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from trainer import artifacts
from trainer.models.checkpoint import CheckpointError, read_checkpoint_config

HISTORY_NAME = "training_metrics.csv"


def read_origin(checkpoint: Path) -> dict:
    """The shipped folder's config.json, checked to hold what a continuation needs."""
    meta = read_checkpoint_config(checkpoint)
    training = meta.get("training") or {}
    if not training.get("train_config") or not training.get("preset") or not training.get("epochs"):
        raise CheckpointError(f"{checkpoint} has no training record (preset, epochs, train config) to continue from")
    if not (meta.get("data") or {}).get("sources"):
        raise CheckpointError(f"{checkpoint} does not record the data it was trained on")
    return meta


def origin_entry(checkpoint: Path, meta: dict) -> dict:
    """What a continuation records about where it started."""
    training = meta["training"]
    return {"checkpoint": str(checkpoint), "weights_sha256": meta.get("weights_sha256"),
            "weights_dtype": meta.get("weights_dtype"), "epochs": int(training["epochs"]),
            "global_step": int(training.get("global_step", 0)), "optimizer_state": "fresh (not shipped)"}


def lineage(meta: dict) -> list[dict]:
    """Earlier continuations of the checkpoint being continued, oldest first."""
    return list((meta.get("training") or {}).get("continued_from") or [])


def seed_run_history(checkpoint: Path, samples_dir: Path, metrics_path: Path) -> int:
    """Copy the shipped per-epoch metrics into the run, and the evolution strip's rows back into one-row
    sample grids (``samples/epoch_NNN.png``) so the run's strip goes on from them; returns rows restored."""
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    if (checkpoint / HISTORY_NAME).is_file():
        shutil.copyfile(checkpoint / HISTORY_NAME, metrics_path)
    strip_path, index_path = checkpoint / "evolution.png", checkpoint / "evolution.json"
    if not (strip_path.is_file() and index_path.is_file()):
        return 0
    try:
        index = json.loads(index_path.read_text())
        rows, cell, padding = index["rows"], int(index["cell_size"]), int(index["padding"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    pitch = cell + padding
    samples_dir.mkdir(parents=True, exist_ok=True)
    with Image.open(strip_path) as strip:
        strip.load()
        if strip.height < padding + len(rows) * pitch:
            return 0
        for i, epoch in enumerate(rows):
            row = strip.crop((0, i * pitch, strip.width, i * pitch + padding + pitch))
            artifacts.save_png(row, samples_dir / f"epoch_{int(epoch):03d}.png")
    return len(rows)
