"""The VAE training loop (seed 000; seed 003's BCE, KL annealing and β-VAE through the config; a VAE-GAN's
adversarial term on the decoder with ``adversarial_weight``; a weight average with ``ema_decay``)."""

from __future__ import annotations

import torch

from trainer.adversarial import DecoderCritic, adaptive_weight, last_decoder_weight
from trainer.data import eval_batches
from trainer.ema import weight_average
from trainer.losses import annealed_beta, lazy_r1_weight, reconstruction_loss, vae_loss
from trainer.lr_schedule import apply_lr
from trainer.metrics.reconstruction import psnr_db
from trainer.models import ConvVAE
from trainer.running_means import LOG_INTERVAL, RunningMeans
from trainer.runtime import noise_generator
from trainer.session import Session
from trainer.throughput import Throughput
from trainer.vae_average import SHIPPED_KEY, STATE_KEY, recalibrated_vae, recalibration_indices


def train_vae(session: Session) -> dict:
    """Train ``session.model`` (a ConvVAE) for the configured epochs; returns the run summary."""
    cfg, runtime, vae = session.train, session.runtime, session.model
    model = session.wrap(vae)
    optimizer = torch.optim.Adam(vae.parameters(), lr=cfg.learning_rate, betas=(cfg.adam_beta1, cfg.adam_beta2))
    if session.optimizer_states:
        optimizer.load_state_dict(session.optimizer_states["vae"])
    critic = None
    if cfg.adversarial_weight:
        if runtime.distributed:
            raise ValueError("--adversarial-weight trains on one process: run it without torchrun")
        critic = DecoderCritic(vae.config, runtime.device, runtime.channels_last, cfg.learning_rate,
                               (cfg.adam_beta1, cfg.adam_beta2), session.optimizer_states)
    average = weight_average(vae, cfg.ema_decay, session.optimizer_states.get(STATE_KEY)) if cfg.ema_decay else None
    fixed_z = session.fixed_latent(vae.latent_dim)
    session.save_epoch_zero_samples(session.decode_fixed(fixed_z))
    row: dict = {}

    for epoch in range(session.start_epoch, cfg.epochs):
        batches = session.epoch_batches(epoch, value_range=(0.0, 1.0))
        noise = noise_generator(runtime, cfg.seed, epoch)
        meter = Throughput(runtime.device)
        figures = RunningMeans()
        bar = session.epoch_bar(epoch, batches)
        for step, x in enumerate(batches):
            beta = annealed_beta(cfg.beta_kl, epoch + step / len(batches), cfg.kl_anneal_epochs)
            apply_lr([optimizer, *([critic.optimizer] if critic else [])], cfg, epoch + step / len(batches))
            with runtime.autocast():
                recon, mu, logvar = model(x, generator=noise)
            loss, recon_term, kl_term = vae_loss(recon, x, mu, logvar, beta=beta, kind=cfg.recon_loss,
                                                 reduction=cfg.recon_reduction)
            adversarial_figures = {}
            if critic is not None:
                loss, adversarial_figures = adversarial_step(vae, critic, x, recon, loss, recon_term, session, noise)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if average is not None:
                average.update_parameters(vae)

            session.global_step += 1
            meter.step(len(x) * runtime.world_size)
            bar.update(len(x) * runtime.world_size)
            figures.add(loss=loss, recon=recon_term, kl=kl_term, **adversarial_figures)
            if step % LOG_INTERVAL == 0:
                bar.set_postfix(figures.shown(4), beta=f"{beta:.3g}")
            if session.reached_max_steps():
                break
        bar.close()

        # Evaluate on the test split, write this epoch's grids, metrics row and checkpoint.
        row, speed = session.training_row(meter, figures, with_r1=critic is not None and bool(cfg.r1_gamma))
        # With a weight average, what the epoch reports and draws is what export would ship: the average.
        shown = (recalibrated_vae(average, session.images, recalibration_indices(session.train_indices, cfg.seed),
                                  cfg.seed, runtime.autocast) if average is not None else vae)
        row.update(evaluate_vae(shown, session, beta=annealed_beta(cfg.beta_kl, epoch + 1, cfg.kl_anneal_epochs)))
        row.update({"beta": annealed_beta(cfg.beta_kl, epoch + 1, cfg.kl_anneal_epochs),
                    "images_per_s": speed})
        states = {"vae": optimizer, **(critic.states() if critic else {}),
                  **({STATE_KEY: average, SHIPPED_KEY: shown} if average is not None else {})}
        session.finish_epoch(epoch, row, states, session.decode_fixed(fixed_z, shown),
                             reconstruction_pairs(shown, session),
                             curves=["loss", "recon", "kl", *(["d_loss", "g_adv"] if critic else [])])
        if session.reached_max_steps():
            break
    # The trivial predictor the reconstructions must beat, recorded beside the final figures.
    return session.finish({**row, "mean_image_test_mse": mean_image_mse(session)})


def adversarial_step(vae: ConvVAE, critic: DecoderCritic, x: torch.Tensor, recon: torch.Tensor,
                     loss: torch.Tensor, recon_term: torch.Tensor, session: Session, noise: torch.Generator):
    """VAE-GAN: update D on real faces against reconstructions and prior samples, then add the decoder's
    adversarial loss to the VAE's, weighted adaptively. Returns (the VAE's total loss, figures to log, as tensors)."""
    cfg, runtime = session.train, session.runtime
    z_prior = torch.randn(max(len(x) // 2, 2), vae.latent_dim, generator=noise, device=runtime.device)
    with runtime.autocast():
        fakes = torch.cat([recon, vae.decode(z_prior).to(recon.dtype)])
    d_step = critic.update(x, fakes, runtime.autocast, lazy_r1_weight(cfg.r1_gamma, cfg.r1_interval, session.global_step))
    g_adv = critic.generator_term(fakes, runtime.autocast)
    weight = cfg.adversarial_weight * adaptive_weight(recon_term, g_adv, last_decoder_weight(vae.decoder))
    return loss + weight * g_adv, {**d_step.figures(), "g_adv": g_adv.detach(), "adv_weight": weight}


@torch.no_grad()
def evaluate_vae(vae: ConvVAE, session: Session, beta: float) -> dict:
    """Test-split loss (one seeded z sample per image), and MSE/PSNR of the reconstruction from μ."""
    cfg, runtime = session.train, session.runtime
    vae.eval()
    generator = torch.Generator(device=runtime.device).manual_seed(cfg.seed)
    totals = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "mse": 0.0, "psnr": 0.0}
    count = 0
    for x in eval_batches(session.images, session.test_indices, 256):
        with runtime.autocast():
            mu, logvar = vae.encode(x)
            recon = vae.decode(vae.reparameterize(mu, logvar, generator))
            recon_mean = vae.decode(mu)
        loss, recon_term, kl_term = vae_loss(recon, x, mu, logvar, beta=beta, kind=cfg.recon_loss,
                                             reduction=cfg.recon_reduction)
        mse = reconstruction_loss(recon_mean, x, "mse", "mean")  # (B,)
        n = len(x)
        totals["loss"] += loss.item() * n
        totals["recon"] += recon_term.item() * n
        totals["kl"] += kl_term.item() * n
        totals["mse"] += mse.sum().item()
        totals["psnr"] += psnr_db(mse).sum().item()
        count += n
    vae.train()
    if not count:
        return {}
    result = {f"test_{k}": v / count for k, v in totals.items()}
    if cfg.recon_reduction == "sum" and cfg.recon_loss in ("bce", "gaussian"):
        # A likelihood decoder (Bernoulli, or σ-VAE's Gaussian with σ fitted per batch of 256):
        # −ELBO = E_q[−log p(x|z)] + KL, in nats per image (β = 1, whatever β trained it).
        result["test_neg_elbo_nats"] = result["test_recon"] + result["test_kl"]
    return result


@torch.no_grad()
def reconstruction_pairs(vae: ConvVAE, session: Session, count: int = 8) -> torch.Tensor:
    """Rows of 8 test images above their reconstructions from μ: (2·count, C, H, W)."""
    x = next(eval_batches(session.images, session.test_indices[:count], count), None)
    if x is None:
        return None
    vae.eval()
    with session.runtime.autocast():
        recon = vae.decode(vae.encode(x)[0]).float()
    vae.train()
    return torch.cat([x, recon])


def mean_image_mse(session: Session) -> float:
    """Test MSE of always predicting the training split's mean image: the floor any model must beat."""
    mean = session.data.mean_image("train").to(session.runtime.device)
    total = sum(((x - mean) ** 2).flatten(1).mean(1).sum().item()
                for x in eval_batches(session.images, session.test_indices, 512))
    return total / max(len(session.test_indices), 1)
