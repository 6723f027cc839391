"""The learning-rate schedule: an optional linear warm-up from 0 over the run's first epochs, constant, then an
optional linear fall to 0 over its last epochs.

A function of the position in the run alone (epochs, fractional within one), so ``--resume`` and
``--init-from`` (which keep counting epochs) land on the same rate without any saved scheduler state.
"""

from __future__ import annotations

import torch

from trainer.config import TrainConfig


def lr_factor(position: float, epochs: int, decay_epochs: int, warmup_epochs: float = 0.0) -> float:
    """The multiple of the base learning rate at ``position`` epochs into a run of ``epochs``."""
    factor = 1.0
    if warmup_epochs > 0:
        factor = min(factor, position / warmup_epochs)
    if decay_epochs > 0:
        factor = min(factor, (epochs - position) / decay_epochs)
    return max(0.0, factor)


def apply_lr(optimizers: list[torch.optim.Optimizer], train: TrainConfig, position: float) -> None:
    """Set every group's rate for ``position`` epochs into the run; a constant rate is left alone."""
    if not train.lr_decay_epochs and not train.lr_warmup_epochs:
        return
    rate = train.learning_rate * lr_factor(position, train.epochs, train.lr_decay_epochs, train.lr_warmup_epochs)
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = rate
