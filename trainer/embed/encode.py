"""Encode a dataset to latent Gaussians in large batches (bf16 autocast and channels_last where they help)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from trainer.data import eval_batches
from trainer.runtime import Runtime


@torch.no_grad()
def encode_images(encoder, images: torch.Tensor, runtime: Runtime, batch_size: int = 512,
                  value_range: tuple[float, float] = (0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """``encoder(x) -> (mu, logvar)`` over all uint8 ``images`` (N, C, H, W) → mu, logvar as float32 (N, D)."""
    mus, logvars = [], []
    indices = torch.arange(len(images))
    for x in tqdm(eval_batches(images, indices, batch_size, value_range), total=-(-len(images) // batch_size),
                  desc="encode", unit="batch", leave=False):
        if runtime.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with runtime.autocast():
            mu, logvar = encoder(x)
        mus.append(mu.float().cpu())
        logvars.append(logvar.float().cpu())
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean over the data of KL(q(z_d|x) ‖ N(0, 1)) per dimension (Kingma & Welling App. B, not summed):
    near 0 for a dimension the model ignores (posterior = prior), large for an "active" one."""
    return (0.5 * (mu.astype(np.float64) ** 2 + np.exp(logvar) - 1.0 - logvar)).mean(0).astype(np.float32)
