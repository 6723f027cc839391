"""One discriminator update, shared by the DCGAN loop and the VAE-GAN's critic (pytorch/examples dcgan's
step (1)): maximise log D(x) + log(1 − D(G(z))), with R1 on the real half when asked."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from trainer.losses import d_loss_fake, d_loss_real, r1_penalty


@dataclass
class DiscriminatorStep:
    """What one step measured, as tensors on the device (read them back only when logging)."""
    loss: torch.Tensor
    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    r1: torch.Tensor | None  # ‖∇ₓD(x)‖², None on a step without R1

    def figures(self) -> dict[str, torch.Tensor | None]:
        """The loop's logged figures: D's loss and its mean probability on real and on fake images."""
        return {"d_loss": self.loss.detach(), "d_real": torch.sigmoid(self.real_logits.detach().float()).mean(),
                "d_fake": torch.sigmoid(self.fake_logits.detach().float()).mean(), "r1": self.r1}


def discriminator_step(discriminator: torch.nn.Module, optimizer: torch.optim.Optimizer, real: torch.Tensor,
                       fake: torch.Tensor, autocast, r1_weight: float = 0.0,
                       defer_sync=contextlib.nullcontext) -> DiscriminatorStep:
    """Update D once on a real batch and a fake one (detached here). Real and fake go through D separately, so
    BatchNorm sees one kind per batch. ``r1_weight`` (γ/2, see ``lazy_r1_weight``) adds R1 on the real half.
    ``defer_sync`` wraps the real half's backward: under DDP, ``no_sync`` skips that all-reduce so the second
    backward reduces the summed gradient once."""
    optimizer.zero_grad(set_to_none=True)
    real = real.detach().requires_grad_(r1_weight > 0)  # R1 needs ∇ₓ D(x)
    with defer_sync():
        with autocast():
            real_logits = discriminator(real)
        loss_real = d_loss_real(real_logits)
        penalty = r1_penalty(real_logits, real) if r1_weight else None
        (loss_real if penalty is None else loss_real + r1_weight * penalty).backward()
    with autocast():
        fake_logits = discriminator(fake.detach())
    loss_fake = d_loss_fake(fake_logits)
    loss_fake.backward()
    optimizer.step()
    return DiscriminatorStep((loss_real + loss_fake).detach(), real_logits, fake_logits,
                             None if penalty is None else penalty.detach())
