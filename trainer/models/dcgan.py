"""DCGAN (Radford et al. 2015) as in pytorch/examples dcgan/main.py: transposed-conv generator with
BatchNorm + ReLU and a tanh output in [-1, 1]; strided-conv discriminator with LeakyReLU(0.2); N(0, 0.02)
init. 64×64 (z of 100) and 128×128 (z of 256, seed 004)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from trainer.models.checkpoint import PretrainedMixin
from trainer.models.prior_sampling import StandardNormalSampling


@dataclass(frozen=True)
class DCGANConfig:
    image_size: int = 64
    image_channels: int = 3
    latent_dim: int = 100
    generator_width: int = 64  # channels at the last generator layer before RGB ("ngf")
    discriminator_width: int = 64  # channels at the first discriminator layer ("ndf")
    max_width: int = 512

    def __post_init__(self):
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ValueError(f"DCGAN image_size must be a power of two >= 8, got {self.image_size}")
        if self.image_channels not in (1, 3) or self.latent_dim < 1:
            raise ValueError("need image_channels 1 or 3 and latent_dim >= 1")

    @property
    def num_upsamplings(self) -> int:
        return int(math.log2(self.image_size)) - 2  # 4×4 → image_size


def dcgan_weights_init(module: nn.Module) -> None:
    """Radford et al. 2015, §4: conv weights ~ N(0, 0.02); BatchNorm gamma ~ N(1, 0.02), beta = 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, config: DCGANConfig):
        super().__init__()
        n = config.num_upsamplings
        # Width at each resolution 4, 8, …: halves as the image doubles, capped at max_width.
        widths = [min(config.generator_width * 2 ** (n - 1 - i), config.max_width) for i in range(n)]
        layers: list[nn.Module] = [  # (B, z, 1, 1) → (B, 512, 4, 4)
            nn.ConvTranspose2d(config.latent_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True),
        ]
        for a, b in zip(widths[:-1], widths[1:]):  # (B, 512, 4, 4) → (B, 256, 8, 8) → … → (B, 64, 32, 32)
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
        # (B, 64, 32, 32) → (B, C, 64, 64)
        layers += [nn.ConvTranspose2d(widths[-1], config.image_channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class Discriminator(nn.Module):
    """Returns one logit per image (BCE-with-logits is the numerically safe form of sigmoid + BCE)."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        n = config.num_upsamplings
        widths = [min(config.discriminator_width * 2**i, config.max_width) for i in range(n)]
        # (B, C, 64, 64) → (B, 64, 32, 32): no BatchNorm on the input layer (Radford et al. §3)
        layers: list[nn.Module] = [
            nn.Conv2d(config.image_channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)
        ]
        for a, b in zip(widths[:-1], widths[1:]):  # (B, 64, 32, 32) → … → (B, 512, 4, 4)
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False))  # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)  # (B,)


class DCGAN(StandardNormalSampling, PretrainedMixin, nn.Module):
    """Generator + discriminator in one checkpoint. ``decode(z)`` gives images in [0, 1] like the VAE's."""

    model_type = "dcgan"
    config_class = DCGANConfig

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        self.apply(dcgan_weights_init)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, latent_dim) → images (B, C, H, W) in [0, 1]."""
        return (self.generator(z) + 1) / 2
