"""An adversarial term for the VAE's decoder (VAE-GAN, Larsen et al. 2016), weighted adaptively.

A pixel likelihood rewards the decoder for the mean of what a code could be, which is a blur; a discriminator
that tells decoded faces from real ones rewards detail instead. The discriminator is the DCGAN's (seed 002),
shown both reconstructions and faces decoded from prior draws z ~ N(0, I), as Larsen et al. do, so that
sampling sharpens and not only reconstruction. Its weight is set each step as in Esser et al. (2021, "Taming
Transformers", eq. 7): the ratio of the reconstruction's to the adversarial term's gradient norm at the
decoder's last layer, so one ``--adversarial-weight`` means the same whatever the likelihood's scale (the
σ-VAE's summed nats and seed 000's mean MSE differ by four orders of magnitude).

The discriminator is training state, not part of the model: its weights ride in ``training_state.pt`` beside
the optimizers (key ``vae_discriminator``), so ``--resume`` goes on exactly, and the exported folder is an
ordinary ConvVAE that the explorer serves unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from trainer.discriminator_step import DiscriminatorStep, discriminator_step
from trainer.losses import g_loss
from trainer.models import DCGANConfig, Discriminator, VAEConfig, dcgan_weights_init

STATE_KEY = "vae_discriminator"
OPTIMIZER_KEY = "vae_discriminator_adam"


def vae_discriminator(config: VAEConfig, state: dict | None = None) -> Discriminator:
    """The DCGAN discriminator for this VAE's images (N(0, 0.02) init, or ``state`` when resuming)."""
    size = config.image_size
    if size < 8 or size & (size - 1):
        raise ValueError(f"--adversarial-weight needs a power-of-two image size of at least 8 "
                         f"(the DCGAN discriminator's strided convs); this model's is {size}")
    discriminator = Discriminator(DCGANConfig(image_size=size, image_channels=config.image_channels))
    discriminator.apply(dcgan_weights_init)
    if state is not None:
        discriminator.load_state_dict(state)
    return discriminator


def last_decoder_weight(decoder: nn.Module) -> torch.Tensor:
    """The weight of the decoder's last (transposed) convolution: where the two gradients are compared."""
    convolutions = [m for m in decoder.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    return convolutions[-1].weight


def adaptive_weight(recon_term: torch.Tensor, adversarial_term: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """λ = ‖∇_w L_rec‖ / (‖∇_w L_adv‖ + 1e-4), detached (Esser et al. 2021, eq. 7). Their clamp at 1e4 is left
    out: the σ-VAE's summed nats need ratios beyond it, and λ·∇_w L_adv can never outgrow ∇_w L_rec anyway."""
    recon_grad, = torch.autograd.grad(recon_term, weight, retain_graph=True)
    adversarial_grad, = torch.autograd.grad(adversarial_term, weight, retain_graph=True)
    ratio = recon_grad.float().norm() / (adversarial_grad.float().norm() + 1e-4)
    return ratio.detach()


def to_discriminator_range(images: torch.Tensor) -> torch.Tensor:
    """The VAE decodes to [0, 1]; the DCGAN discriminator was built for tanh images in [−1, 1]."""
    return images * 2 - 1


class DecoderCritic:
    """The discriminator and its Adam, with the two halves of a VAE-GAN step (DCGAN's order: D, then the VAE)."""

    def __init__(self, config: VAEConfig, device: torch.device, channels_last: bool, learning_rate: float,
                 betas: tuple[float, float], saved: dict):
        self.discriminator = vae_discriminator(config, saved.get(STATE_KEY)).to(device).train()
        if channels_last:
            self.discriminator = self.discriminator.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=learning_rate, betas=betas)
        if OPTIMIZER_KEY in saved:
            self.optimizer.load_state_dict(saved[OPTIMIZER_KEY])

    def states(self) -> dict:
        """What ``training_state.pt`` keeps to resume: anything with a ``state_dict()``."""
        return {STATE_KEY: self.discriminator, OPTIMIZER_KEY: self.optimizer}

    def update(self, real: torch.Tensor, fakes: torch.Tensor, autocast, r1_weight: float = 0.0) -> DiscriminatorStep:
        """One discriminator step on real faces and (detached) decoded ones, with the R1 penalty on the real
        half weighted ``r1_weight`` (γ/2, see ``lazy_r1_weight``) when that is not 0."""
        return discriminator_step(self.discriminator, self.optimizer, to_discriminator_range(real),
                                  to_discriminator_range(fakes.detach()), autocast, r1_weight)

    def generator_term(self, fakes: torch.Tensor, autocast) -> torch.Tensor:
        """The decoder's non-saturating loss −log D(x̂); D's own weights get no gradient from it."""
        self.discriminator.requires_grad_(False)
        try:
            with autocast():
                logits = self.discriminator(to_discriminator_range(fakes))
        finally:
            self.discriminator.requires_grad_(True)
        return g_loss(logits)
