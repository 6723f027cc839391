"""Reconstruction quality on held-out images: MSE, PSNR and SSIM of decode(encode(x)) against x."""

from __future__ import annotations

import torch
from torchmetrics.functional.image import structural_similarity_index_measure
from tqdm import tqdm


def psnr_db(mse: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of per-image MSEs (pixels in [0, 1]); an exact copy is capped at 100 dB."""
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


@torch.no_grad()
def reconstruction_figures(encode, decode, images: torch.Tensor, device: torch.device,
                           batch_size: int = 256) -> dict:
    """``encode(x) -> (mu, logvar)``, ``decode(mu) -> x̂``, images uint8 (N, C, H, W). Per-image MSE and PSNR
    (pixels in [0, 1]) and SSIM (Gaussian window 11, σ 1.5; Wang et al. 2004), each averaged over images."""
    totals = {"mse": 0.0, "psnr": 0.0, "ssim": 0.0}
    starts = range(0, len(images), batch_size)
    for start in tqdm(starts, desc="reconstruct", unit="batch", leave=False, disable=len(starts) < 4):
        x = images[start:start + batch_size].to(device).float() / 255.0
        x_hat = decode(encode(x)[0]).float().clamp(0, 1)
        mse = (x_hat - x).pow(2).flatten(1).mean(1)
        totals["mse"] += mse.sum().item()
        totals["psnr"] += psnr_db(mse).sum().item()
        totals["ssim"] += structural_similarity_index_measure(x_hat, x, data_range=1.0, reduction="sum").item()
    count = max(len(images), 1)
    return {"images": len(images), **{k: v / count for k, v in totals.items()}}
