import math

import torch
from torch.distributions import Normal, kl_divergence as torch_kl

from trainer.losses import (MIN_LOG_SIGMA, annealed_beta, d_loss_fake, d_loss_real, g_loss, kl_divergence,
                            optimal_sigma_gaussian_nll, vae_loss)


def test_kl_closed_form_matches_torch_distributions():
    mu, logvar = torch.randn(5, 7), torch.randn(5, 7)
    expected = torch_kl(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5)
    assert torch.allclose(kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_vae_loss_is_seed000_mse_plus_beta_kl():
    x, recon = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8)
    mu, logvar = torch.randn(4, 5), torch.randn(4, 5)
    total, rec, kl = vae_loss(recon, x, mu, logvar, beta=1 / 4096)
    assert torch.isclose(rec, ((recon - x) ** 2).mean())
    assert torch.isclose(total, rec + kl / 4096)
    _, rec_sum, _ = vae_loss(recon, x, mu, logvar, beta=1.0, kind="bce", reduction="sum")
    bce = torch.nn.functional.binary_cross_entropy(recon, x, reduction="sum") / 4
    assert torch.isclose(rec_sum, bce, rtol=1e-4)


def test_sigma_vae_likelihood_is_the_gaussian_nll_at_the_best_shared_sigma():
    x = torch.rand(4, 3, 8, 8)
    recon = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    nll = optimal_sigma_gaussian_nll(recon, x)
    sigma = ((recon - x) ** 2).mean().sqrt()
    expected = -Normal(recon, sigma).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(nll, expected, rtol=1e-4)
    # σ is the maximum-likelihood one: any other shared σ explains the batch worse.
    for other in (0.7 * sigma, 1.4 * sigma):
        assert -Normal(recon, other).log_prob(x).sum() > nll.sum()
    # A better reconstruction is a much likelier one (log σ falls), and a perfect copy stops at the floor.
    closer = (x + 0.01 * torch.randn_like(x)).clamp(0, 1)
    assert optimal_sigma_gaussian_nll(closer, x).mean() < nll.mean() - 2 * 192  # log 10 ≈ 2.3 nats a pixel
    floor = 192 * (MIN_LOG_SIGMA + 0.5 * math.log(2 * math.pi))
    assert torch.allclose(optimal_sigma_gaussian_nll(x, x), torch.full((4,), floor))
    total, rec, kl = vae_loss(recon, x, torch.zeros(4, 5), torch.zeros(4, 5), beta=1.0, kind="gaussian",
                              reduction="sum")
    assert torch.isclose(total, nll.mean()) and kl.abs().max() < 1e-6


def test_kl_annealing_ramps_linearly_then_holds():
    assert annealed_beta(4.0, 0, 30) == 0.0
    assert math.isclose(annealed_beta(4.0, 15, 30), 2.0)
    assert annealed_beta(4.0, 45, 30) == 4.0 and annealed_beta(4.0, 0, 0) == 4.0


def test_gan_losses():
    confident_real, confident_fake = torch.full((8,), 10.0), torch.full((8,), -10.0)
    assert d_loss_real(confident_real) + d_loss_fake(confident_fake) < 1e-3
    assert math.isclose(d_loss_real(torch.zeros(3)).item(), math.log(2), rel_tol=1e-5)
    assert math.isclose(d_loss_fake(torch.zeros(3)).item(), math.log(2), rel_tol=1e-5)
    assert g_loss(confident_fake) > 9 and g_loss(confident_real) < 1e-3  # non-saturating: big gradient when D wins
