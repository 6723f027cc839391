"""Losses, each a small function citing its source."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) per image, summed over latent dims: the closed form of Kingma & Welling
    (2014), Appendix B: −½ Σ (1 + log σ² − μ² − σ²). Returns (B,)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


# σ-VAE's floor on log σ (Rybkin et al. 2021, their soft clip at −6): a decoder that copies a batch exactly
# would otherwise drive log σ to −∞ and the loss with it.
MIN_LOG_SIGMA = -6.0


def optimal_sigma_gaussian_nll(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """σ-VAE (Rybkin, Daniilidis & Levine 2021, "Simple and Effective VAE Training with Calibrated Decoders"):
    −log N(x; x̂, σ²I) per image (B,), summed over pixels, with the one shared σ² set to its maximum-likelihood
    value, the batch's mean squared error. The KL then weighs against a decoder calibrated to its actual error,
    instead of against seed 000's fixed per-pixel mean (which over-weighs the KL and blurs the faces)."""
    squared = (recon.float() - target.float()).pow(2).flatten(1)  # (B, D)
    log_sigma = (0.5 * squared.mean().log()).clamp_min(MIN_LOG_SIGMA)
    per_pixel = 0.5 * squared / torch.exp(2 * log_sigma) + log_sigma + 0.5 * math.log(2 * math.pi)
    return per_pixel.sum(1)


def reconstruction_loss(recon: torch.Tensor, target: torch.Tensor, kind: str = "mse",
                        reduction: str = "mean") -> torch.Tensor:
    """Per-image reconstruction error (B,): ``mean`` over pixels (seed 000's MSE) or ``sum`` over pixels
    (seed 003's Bernoulli log-likelihood, i.e. BCE summed); ``gaussian`` is the σ-VAE likelihood above
    (always summed: nats per image)."""
    if kind == "gaussian":
        return optimal_sigma_gaussian_nll(recon, target)
    if kind == "mse":
        per_pixel = F.mse_loss(recon.float(), target.float(), reduction="none")
    elif kind == "bce":
        per_pixel = F.binary_cross_entropy(recon.float().clamp(1e-6, 1 - 1e-6), target.float(), reduction="none")
    else:
        raise ValueError(f"unknown reconstruction loss '{kind}' (mse, bce or gaussian)")
    flat = per_pixel.flatten(1)
    return flat.mean(1) if reduction == "mean" else flat.sum(1)


def vae_loss(recon, target, mu, logvar, *, beta: float, kind: str = "mse", reduction: str = "mean"):
    """Seed 000: L = MSE(x, x̂) + β·KL with β = 1/(64·64); seed 003: BCE (summed) + β·KL, β-VAE for β > 1
    (Higgins et al. 2017). Returns (total, reconstruction, kl), each a batch mean."""
    recon_term = reconstruction_loss(recon, target, kind, reduction).mean()
    kl_term = kl_divergence(mu.float(), logvar.float()).mean()
    return recon_term + beta * kl_term, recon_term, kl_term


def annealed_beta(beta: float, epoch: float, anneal_epochs: int) -> float:
    """KL annealing (Bowman et al. 2016; seed 003): β ramps linearly from 0 to its value over K epochs."""
    if anneal_epochs <= 0:
        return beta
    return beta * min(1.0, epoch / anneal_epochs)


def d_loss_real(real_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's real half of Goodfellow et al. (2014), eq. 1: −log D(x)."""
    return F.binary_cross_entropy_with_logits(real_logits.float(), torch.ones_like(real_logits, dtype=torch.float))


def d_loss_fake(fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's fake half: −log(1 − D(G(z))). Kept apart from the real half so each can be
    back-propagated after its own forward pass, as pytorch/examples dcgan/main.py does."""
    return F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float))


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?", eq. 9):
    the squared norm of D's gradient at real images, ‖∇ₓ D(x)‖², batch mean; the caller weighs it by γ/2.
    ``real`` must have required grad before D saw it. The graph is kept, so D's weights learn from it: a
    discriminator flat around the real faces cannot saturate on them, which is what kept pushing the VAE-GAN's
    D(real) to 0.999."""
    gradient, = torch.autograd.grad(real_logits.float().sum(), real, create_graph=True)
    return gradient.float().pow(2).flatten(1).sum(1).mean()


def lazy_r1_weight(gamma: float, interval: int, step: int) -> float:
    """The weight of R1 at training step ``step``: γ/2 every step, or, regularised lazily (Karras et al. 2020,
    StyleGAN2 §B), γ/2 · interval on every interval-th step and 0 between, the same pull on D on average for
    about 1/interval of the double-backward cost."""
    if not gamma or step % interval:
        return 0.0
    return gamma / 2 * interval


def g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss (Goodfellow et al. 2014, §3): −log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits.float(), torch.ones_like(fake_logits, dtype=torch.float))
