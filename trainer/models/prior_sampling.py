"""Drawing images from the standard normal prior, for any model that decodes a latent (the VAE's decoder and
the DCGAN's generator alike)."""

from __future__ import annotations

import torch


class StandardNormalSampling:
    """Mixed into a module with ``latent_dim`` and ``decode(z)`` → images in [0, 1]."""

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        """n images decoded from z ~ N(0, temperature² I): (n, C, H, W) in [0, 1]. For a GAN, temperature < 1
        is the truncation trick."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device) * temperature
        return self.decode(z)
