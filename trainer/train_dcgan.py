"""The DCGAN training loop, as pytorch/examples dcgan/main.py: (1) update D, (2) update G, per batch."""

from __future__ import annotations

import contextlib
import copy

import torch

from trainer.data import eval_batches
from trainer.ema import STATE_KEY, weight_average, recalibrated_copy
from trainer.discriminator_step import discriminator_step
from trainer.losses import d_loss_fake, d_loss_real, g_loss, lazy_r1_weight
from trainer.lr_schedule import apply_lr
from trainer.models import DCGAN
from trainer.running_means import LOG_INTERVAL, RunningMeans
from trainer.runtime import noise_generator
from trainer.session import Session
from trainer.throughput import Throughput


def train_dcgan(session: Session) -> dict:
    """Train ``session.model`` (a DCGAN) for the configured epochs; returns the run summary."""
    cfg, runtime, gan = session.train, session.runtime, session.model
    generator, discriminator = session.wrap(gan.generator), session.wrap(gan.discriminator)
    betas = (cfg.adam_beta1, cfg.adam_beta2)
    opt_g = torch.optim.Adam(gan.generator.parameters(), lr=cfg.learning_rate, betas=betas)
    opt_d = torch.optim.Adam(gan.discriminator.parameters(), lr=cfg.learning_rate, betas=betas)
    if session.optimizer_states:
        opt_g.load_state_dict(session.optimizer_states["generator"])
        opt_d.load_state_dict(session.optimizer_states["discriminator"])
    average = (weight_average(gan.generator, cfg.ema_decay, session.optimizer_states.get(STATE_KEY))
               if cfg.ema_decay else None)
    if cfg.r1_gamma and runtime.distributed:
        # R1 differentiates D's gradient (double backward), which DistributedDataParallel does not support.
        raise ValueError("--r1-gamma trains on one process: run it without torchrun")
    fixed_z = session.fixed_latent(gan.latent_dim)
    session.save_epoch_zero_samples(session.decode_fixed(fixed_z))
    row: dict = {}

    for epoch in range(session.start_epoch, cfg.epochs):
        batches = session.epoch_batches(epoch, value_range=(-1.0, 1.0))
        noise = noise_generator(runtime, cfg.seed, epoch)
        meter = Throughput(runtime.device)
        figures = RunningMeans()
        bar = session.epoch_bar(epoch, batches)
        for step, real in enumerate(batches):
            apply_lr([opt_g, opt_d], cfg, epoch + step / len(batches))
            z = torch.randn(len(real), gan.latent_dim, generator=noise, device=runtime.device)
            with runtime.autocast():
                fake = generator(z)

            # (1) update D: maximise log D(x) + log(1 − D(G(z)))
            d_step = discriminator_step(
                discriminator, opt_d, real, fake, runtime.autocast,
                lazy_r1_weight(cfg.r1_gamma, cfg.r1_interval, session.global_step),
                discriminator.no_sync if runtime.distributed else contextlib.nullcontext)

            # (2) update G: maximise log D(G(z)) (the non-saturating loss)
            opt_g.zero_grad(set_to_none=True)
            with runtime.autocast():
                fake_logits_for_g = discriminator(fake)
            loss_g = g_loss(fake_logits_for_g)
            loss_g.backward()
            opt_g.step()
            if average is not None:
                average.update_parameters(gan.generator)

            session.global_step += 1
            meter.step(len(real) * runtime.world_size)
            bar.update(len(real) * runtime.world_size)
            figures.add(**d_step.figures(), g_loss=loss_g)
            if step % LOG_INTERVAL == 0:
                bar.set_postfix(figures.shown())
            if session.reached_max_steps():
                break
        bar.close()

        # Evaluate on the test split, write this epoch's grids, metrics row and checkpoint.
        row, speed = session.training_row(meter, figures, with_r1=bool(cfg.r1_gamma))
        row.update(evaluate_dcgan(gan, session, fixed_z))
        row["images_per_s"] = speed
        shown = recalibrated_copy(average, gan.latent_dim) if average is not None else None  # the grid's G
        states = {"generator": opt_g, "discriminator": opt_d, **({STATE_KEY: average} if average else {})}
        session.finish_epoch(epoch, row, states, session.decode_fixed(fixed_z, shown), None,
                             curves=["d_loss", "g_loss"])
        if session.reached_max_steps():
            break
    return session.finish(row)


@torch.no_grad()
def evaluate_dcgan(gan: DCGAN, session: Session, fixed_z: torch.Tensor) -> dict:
    """D's losses and mean outputs on held-out real images and on fakes from the fixed latent, with BatchNorm
    normalising each batch by its own statistics, as in training. D's running statistics mix real and fake
    batches, so in eval mode it scores real faces as fakes (the DCGAN shipped at epoch 50: 0.17 on real test
    faces in eval mode, 0.99 with batch statistics, as on training faces)."""
    runtime, batch_size = session.runtime, session.train.batch_size
    # Throwaway copies in train mode: normalising by batch statistics also moves the running ones.
    discriminator = copy.deepcopy(gan.discriminator).train()
    generator = copy.deepcopy(gan.generator).train()
    indices = session.test_indices
    if len(indices) > batch_size:
        indices = indices[: len(indices) - len(indices) % batch_size]  # no ragged batch: its statistics are noisy
    real_loss = real_prob = 0.0
    count = 0
    for real in eval_batches(session.images, indices, batch_size, value_range=(-1.0, 1.0)):
        with runtime.autocast():
            logits = discriminator(real)
        real_loss += d_loss_real(logits).item() * len(real)
        real_prob += torch.sigmoid(logits.float()).sum().item()
        count += len(real)
    with runtime.autocast():
        fake_logits = discriminator(generator(fixed_z))
    if not count:
        return {}
    return {"test_d_loss": real_loss / count + d_loss_fake(fake_logits).item(),
            "test_g_loss": g_loss(fake_logits).item(), "test_d_real": real_prob / count,
            "test_d_fake": torch.sigmoid(fake_logits.float()).mean().item()}
