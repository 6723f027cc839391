"""Convolutional VAE of seed 000: five stride-2 convs 32→512, a 1024-d dense layer, μ and log σ² heads;
the decoder mirrors it with transposed convs and ends in a sigmoid (pixels in [0, 1]). ``refine_channels``
(not in the seed) lets the decoder draw feature maps at full resolution and a 3×3 conv turn them into pixels."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainer.models.checkpoint import PretrainedMixin
from trainer.models.prior_sampling import StandardNormalSampling


@dataclass(frozen=True)
class VAEConfig:
    image_size: int = 64
    image_channels: int = 3
    latent_dim: int = 128
    hidden_channels: tuple[int, ...] = (32, 64, 128, 256, 512)
    dense_dim: int = 1024
    # 0: the last transposed conv draws the pixels straight from the half-resolution maps (seed 000), so every
    # output pixel is one linear function of 2×2 features; > 0: it draws this many maps at full resolution, and
    # after BatchNorm + LeakyReLU a 3×3 conv mixes neighbours into each pixel: room for edges at pixel scale.
    refine_channels: int = 0

    def __post_init__(self):
        if self.image_size < 4 or self.image_channels not in (1, 3) or self.latent_dim < 1:
            raise ValueError("need image_size >= 4, image_channels 1 or 3, latent_dim >= 1")
        if not self.hidden_channels or min(self.hidden_channels) < 1:
            raise ValueError("hidden_channels must be a non-empty tuple of positive widths")
        if self.refine_channels < 0:
            raise ValueError("refine_channels must be 0 (none) or a positive width")
        if self.feature_sizes()[-1] < 1:
            raise ValueError(f"{len(self.hidden_channels)} stride-2 layers shrink {self.image_size}px to nothing")

    def feature_sizes(self) -> list[int]:
        """Spatial size after each encoder conv (kernel 4, stride 2, padding 1 halves, rounding down)."""
        sizes = [self.image_size]
        for _ in self.hidden_channels:
            sizes.append(sizes[-1] // 2)
        return sizes


def down_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


def up_layer(in_channels: int, out_channels: int, in_size: int, out_size: int) -> nn.ConvTranspose2d:
    # Kernel 4 / stride 2 / padding 1 doubles the size; output_padding restores an odd size (7 → 14 ← 3·2+1).
    return nn.ConvTranspose2d(
        in_channels, out_channels, 4, stride=2, padding=1, output_padding=out_size - 2 * in_size,
        bias=False,
    )


class ConvVAE(StandardNormalSampling, PretrainedMixin, nn.Module):
    """``encode(x) -> (mu, logvar)``, ``decode(z) -> x̂`` in [0, 1], ``sample(n, generator=)``."""

    model_type = "conv_vae"
    config_class = VAEConfig

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        sizes = config.feature_sizes()
        widths = (config.image_channels, *config.hidden_channels)
        self.bottom_shape = (config.hidden_channels[-1], sizes[-1], sizes[-1])
        flat = config.hidden_channels[-1] * sizes[-1] ** 2

        # (B, C, 64, 64) → (B, 32, 32, 32) → (B, 64, 16, 16) → … → (B, 512, 2, 2)
        self.encoder = nn.Sequential(*(down_block(a, b) for a, b in zip(widths[:-1], widths[1:])))
        self.encoder_dense = nn.Sequential(  # (B, 2048) → (B, 1024)
            nn.Flatten(), nn.Linear(flat, config.dense_dim), nn.LeakyReLU(0.2, inplace=True)
        )
        self.to_mu = nn.Linear(config.dense_dim, config.latent_dim)  # (B, latent_dim)
        self.to_logvar = nn.Linear(config.dense_dim, config.latent_dim)

        self.decoder_dense = nn.Linear(config.latent_dim, flat)  # (B, latent_dim) → (B, 512·2·2)
        layers: list[nn.Module] = []
        rev_widths, rev_sizes = widths[::-1], sizes[::-1]
        if config.refine_channels:
            rev_widths = (*rev_widths[:-1], config.refine_channels)  # the last up layer draws feature maps
        for i in range(len(config.hidden_channels)):
            # (B, 512, 2, 2) → (B, 256, 4, 4) → … → (B, 32, 32, 32) → (B, C, 64, 64)
            layers.append(up_layer(rev_widths[i], rev_widths[i + 1], rev_sizes[i], rev_sizes[i + 1]))
            if i < len(config.hidden_channels) - 1 or config.refine_channels:
                layers += [nn.BatchNorm2d(rev_widths[i + 1]), nn.LeakyReLU(0.2, inplace=True)]
        if config.refine_channels:  # (B, refine, 64, 64) → (B, C, 64, 64)
            layers.append(nn.Conv2d(config.refine_channels, config.image_channels, 3, padding=1))
        layers.append(nn.Sigmoid())
        self.decoder = nn.Sequential(*layers)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) in [0, 1] → mu, logvar: (B, latent_dim)."""
        hidden = self.encoder_dense(self.encoder(x))
        return self.to_mu(hidden), self.to_logvar(hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, latent_dim) → images (B, C, H, W) in [0, 1]."""
        hidden = self.decoder_dense(z).view(z.shape[0], *self.bottom_shape)
        return self.decoder(hidden)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = μ + σ·ε with ε ~ N(0, I) (Kingma & Welling 2014, §2.4)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """Returns (reconstruction, mu, logvar)."""
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar, generator)), mu, logvar
