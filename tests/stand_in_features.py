"""A stand-in for the FID network where a test needs an evaluation's path, not its figures.

The real network costs ≈ 0.4 s an image on one core, and FID's 2048×2048 matrix square root ≈ 4.5 s a figure
whatever the set sizes: an evaluation of a tiny model took 48 s. The figures themselves are tested with the
real network (the ``inception`` tier: tests/test_metrics.py)."""

from __future__ import annotations

import contextlib
from unittest import mock

import numpy as np
import torch

from trainer.metrics.inception import FEATURE_DIM, InceptionFeatures


class StandInFeatures(InceptionFeatures):
    """The FID network's interface (preprocessing included) over a fixed random projection; counts what each
    pass was for in ``passes``."""
    passes: list[tuple[str, int]] = []

    def __init__(self, device="cpu", batch_size: int = 64):
        super().__init__(device, batch_size)
        self.network = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten(),
                                           torch.nn.Linear(48, FEATURE_DIM))
        torch.nn.init.normal_(self.network[2].weight, generator=torch.Generator().manual_seed(0))
        torch.nn.init.zeros_(self.network[2].bias)  # the same features in every process
        self.identity = "stand-in features (tests only)"

    def __call__(self, images, desc="Inception features"):
        StandInFeatures.passes.append((desc, len(images)))
        return super().__call__(images, desc)


def mean_distance(real: np.ndarray, fake: np.ndarray) -> float:
    return float(np.abs(real.mean(0) - fake.mean(0)).sum())


@contextlib.contextmanager
def stand_in_inception():
    """``python -m trainer evaluate`` with the stand-in features and a mean distance for FID, while it runs."""
    StandInFeatures.passes = []
    with mock.patch("trainer.evaluate.InceptionFeatures", StandInFeatures), \
            mock.patch("trainer.evaluate.frechet_distance", mean_distance):
        yield StandInFeatures.passes
