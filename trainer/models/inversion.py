"""Inversion encoder for the DCGAN: an image → the z whose G(z) reproduces it.

A generator has no encoder, so the explorer cannot place an uploaded face or the dataset in its latent
space. Following the "learning-based" half of GAN inversion (Zhu et al. 2016, iGAN §3.2; Xia et al. 2022
survey §3.1), a conv net E is trained after the GAN, first on pairs (G(z), z), then on real images through
G. It is stored as its own checkpoint folder, ``inversion/``, inside the DCGAN's folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainer.models.checkpoint import PretrainedMixin
from trainer.models.vae import down_block

INVERSION_DIR = "inversion"


@dataclass(frozen=True)
class InversionConfig:
    image_size: int = 64
    image_channels: int = 3
    latent_dim: int = 100
    hidden_channels: tuple[int, ...] = (64, 128, 256, 512)
    dense_dim: int = 512

    def __post_init__(self):
        if self.image_size >> len(self.hidden_channels) < 1:
            raise ValueError(f"{len(self.hidden_channels)} stride-2 layers shrink {self.image_size}px to nothing")


class InversionEncoder(PretrainedMixin, nn.Module):
    """``encode(x) -> (z, logvar)`` with x in [0, 1]; logvar is a constant −∞ stand-in (a point estimate),
    so the explorer treats it like a VAE encoder."""

    model_type = "dcgan_inversion"
    config_class = InversionConfig

    def __init__(self, config: InversionConfig):
        super().__init__()
        self.config = config
        widths = (config.image_channels, *config.hidden_channels)
        side = config.image_size >> len(config.hidden_channels)
        # (B, C, 64, 64) → (B, 64, 32, 32) → … → (B, 512, 4, 4) → (B, 512) → (B, latent_dim)
        self.features = nn.Sequential(*(down_block(a, b) for a, b in zip(widths[:-1], widths[1:])))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(config.hidden_channels[-1] * side * side, config.dense_dim),
            nn.LeakyReLU(0.2, inplace=True), nn.Linear(config.dense_dim, config.latent_dim),
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) in [0, 1] → z: (B, latent_dim)."""
        return self.head(self.features(x * 2 - 1))  # the generator's [-1, 1] range

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self(x)
        return z, torch.full_like(z, -30.0)
