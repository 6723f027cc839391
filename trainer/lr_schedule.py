"""The learning-rate schedule: constant, then a linear fall to 0 over the run's last epochs.

A function of the position in the run alone (epochs, fractional within one), so ``--resume`` and
``--init-from`` (which keep counting epochs) land on the same rate without any saved scheduler state.
"""

from __future__ import annotations

import torch

from trainer.config import TrainConfig


def lr_factor(position: float, epochs: int, decay_epochs: int) -> float:
    """The multiple of the base learning rate at ``position`` epochs into a run of ``epochs``."""
    if decay_epochs <= 0:
        return 1.0
    return min(1.0, max(0.0, (epochs - position) / decay_epochs))


def apply_lr(optimizers: list[torch.optim.Optimizer], train: TrainConfig, position: float) -> None:
    """Set every group's rate for ``position`` epochs into the run; a constant rate is left alone."""
    if not train.lr_decay_epochs:
        return
    rate = train.learning_rate * lr_factor(position, train.epochs, train.lr_decay_epochs)
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group["lr"] = rate
