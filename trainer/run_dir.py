"""A training run's folder: the latest checkpoint (swapped in atomically), the run's config, resume."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import torch

from trainer.atomic import atomic_write, atomic_write_json
from trainer.models.checkpoint import CheckpointError

STATE_NAME = "training_state.pt"


class RunDir:
    """``<run>/checkpoint/`` is a complete model folder (config.json, model.safetensors) plus
    ``training_state.pt`` (optimizer and counters, no code), replaced as a whole each epoch."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.checkpoint = self.root / "checkpoint"
        self.samples = self.root / "samples"
        self.reconstructions = self.root / "reconstructions"
        self.metrics = self.root / "metrics.csv"
        self.run_config = self.root / "run_config.json"

    def save_run_config(self, preset: str, train, model, data: list[str]) -> None:
        atomic_write_json(self.run_config, {
            "preset": preset, "train": dataclasses.asdict(train), "model": dataclasses.asdict(model),
            "data": data,
        })

    def load_run_config(self) -> dict:
        if not self.run_config.is_file():
            raise CheckpointError(f"nothing to resume in {self.root}: no run_config.json")
        return json.loads(self.run_config.read_text())

    def save_checkpoint(self, model, optimizers: dict, epoch: int, global_step: int, extra: dict,
                        wall_time_s: float = 0.0) -> None:
        """Write into a temp folder, then swap it in with renames, so a crash leaves one whole checkpoint."""
        tmp, old = self.root / ".checkpoint-tmp", self.root / ".checkpoint-old"
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp, extra=extra)
        state = {"epoch": epoch, "global_step": global_step, "wall_time_s": wall_time_s,
                 # optimizers, and anything else with a state_dict() that resuming needs (the G average)
                 "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()}}
        atomic_write(tmp / STATE_NAME, lambda path: torch.save(state, path))
        shutil.rmtree(old, ignore_errors=True)
        if self.checkpoint.exists():
            os.replace(self.checkpoint, old)
        os.replace(tmp, self.checkpoint)
        shutil.rmtree(old, ignore_errors=True)

    def latest_checkpoint(self) -> Path:
        """The checkpoint to resume from (the previous one if a crash struck mid-swap)."""
        for candidate in (self.checkpoint, self.root / ".checkpoint-old"):
            if (candidate / STATE_NAME).is_file():
                return candidate
        raise CheckpointError(f"nothing to resume in {self.root}: no checkpoint/{STATE_NAME}")

    @staticmethod
    def load_training_state(checkpoint: Path) -> dict:
        try:
            # weights_only: the state holds tensors, numbers and dicts only, never code.
            return torch.load(checkpoint / STATE_NAME, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises several types for a truncated or foreign file
            raise CheckpointError(f"cannot read {checkpoint / STATE_NAME}: {error}") from None
