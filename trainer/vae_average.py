"""The VAE's weight average (``--ema-decay`` on a VAE): what a VAE-GAN ships, as the DCGAN ships G's (``ema``).

A decoder trained against a discriminator moves with it from step to step; the average of its weights over the
last ~1/(1 − decay) steps is steadier (Yazici et al. 2019). The whole VAE is averaged, so the shipped encoder
and decoder stay a matched pair. BatchNorm runs through both halves, and the average of its running statistics
is not the statistics of the averaged weights: at the end of each epoch a copy of the average has them measured
afresh (torch's ``update_bn``) on a fixed seeded set of training faces, the decoder's on codes sampled from
those faces' posteriors as in training. That copy draws the epoch's grids, is evaluated on the test split, and
rides in ``training_state.pt`` (``SHIPPED_KEY``) beside the running average (``STATE_KEY``): export ships it.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn

from trainer.data import eval_batches

STATE_KEY = "vae_ema"
SHIPPED_KEY = "vae_ema_recalibrated"
RECALIBRATION_IMAGES, RECALIBRATION_BATCH_SIZE = 25_600, 256


class _SeededForward(nn.Module):
    """The VAE's forward pass with a seeded reparameterisation, so a measurement repeats exactly on resume."""

    def __init__(self, vae: nn.Module, generator: torch.Generator):
        super().__init__()
        self.vae, self.generator = vae, generator

    def forward(self, x: torch.Tensor):
        return self.vae(x, generator=self.generator)


def recalibration_indices(train_indices: torch.Tensor, seed: int, limit: int = RECALIBRATION_IMAGES) -> torch.Tensor:
    """A seeded random subset of the training split, the same every epoch."""
    order = torch.randperm(len(train_indices), generator=torch.Generator().manual_seed(seed))
    return train_indices[order[:limit]]


@torch.no_grad()
def recalibrated_vae(average: AveragedModel, images: torch.Tensor, indices: torch.Tensor, seed: int,
                     autocast) -> nn.Module:
    """A copy of the averaged VAE, in eval mode, with BatchNorm statistics measured over ``images[indices]``
    (exact means, ``update_bn``); the average's own statistics, which it keeps averaging, are left alone."""
    vae = copy.deepcopy(average.module)
    device = next(vae.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    with autocast():
        update_bn(eval_batches(images, indices, RECALIBRATION_BATCH_SIZE), _SeededForward(vae, generator))
    return vae.eval()


def shipped_vae_weights(training_state: dict) -> tuple[dict, int] | None:
    """The recalibrated average's state dict and the average's number of updates, if the run kept one."""
    states = training_state.get("optimizers", {})
    if SHIPPED_KEY not in states or STATE_KEY not in states:
        return None
    return states[SHIPPED_KEY], int(states[STATE_KEY]["n_averaged"])
