"""Training configuration: one frozen dataclass, every default written once, presets as override tables."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from trainer.models import DCGANConfig, VAEConfig


@dataclass(frozen=True)
class TrainConfig:
    model: str = "vae"  # vae | dcgan
    epochs: int = 80
    batch_size: int = 128
    learning_rate: float = 1e-3
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    beta_kl: float = 1 / (64 * 64)  # seed 000's KL weight
    recon_loss: str = "mse"  # mse | bce | gaussian (σ-VAE: Gaussian decoder, σ at its optimum)
    recon_reduction: str = "mean"  # mean over pixels (seed 000) | sum over pixels (seed 003)
    kl_anneal_epochs: int = 0  # β ramps from 0 over this many epochs (seed 003: 30)
    flip: bool = True  # random horizontal flip augmentation
    test_fraction: float = 0.2
    seed: int = 0
    max_steps: int = 0  # stop after this many optimizer steps in total (0: no limit); for smoke runs
    max_images: int = 0  # use only the first N images of the sources (0: all)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto | fp32 | bf16
    channels_last: bool = True
    sample_count: int = 64  # images in the fixed-latent sample grid
    eval_max_images: int = 0  # cap on test images evaluated per epoch (0: the whole test split)
    # DCGAN: also keep an exponential moving average of G's weights, which the samples and the export use
    # (0: off). Averaging smooths the generator's step-to-step oscillation (Yazici et al. 2019).
    ema_decay: float = 0.0
    # VAE: weight of an adversarial term on the decoder's faces (VAE-GAN; 0: off), scaled each step by the
    # ratio of gradient norms at the decoder's last layer (trainer/adversarial.py). Typical: 0.1–1.
    adversarial_weight: float = 0.0
    # DCGAN and VAE-GAN: weight γ of the R1 penalty γ/2·‖∇ₓD(x)‖² on real images (Mescheder et al. 2018; 0: off).
    # Typical: 0.1–10. It keeps the discriminator from saturating; one process only (double backward).
    r1_gamma: float = 0.0
    # Apply R1 only every r1_interval-th step, weighted r1_interval times (lazy regularisation, StyleGAN2; 1: every
    # step). 16 keeps R1's effect for a sliver of its cost.
    r1_interval: int = 1
    # Learning rate falls linearly to 0 over the run's last lr_decay_epochs epochs (0: constant), for G and D
    # alike (as Miyato et al. 2018's SNGAN): a GAN that has stopped improving at a constant rate settles.
    lr_decay_epochs: int = 0
    # Learning rate rises linearly from 0 over the run's first lr_warmup_epochs (fractions allowed; 0: none): Adam's
    # first steps move every weight by the full rate, which can throw a σ-VAE's log σ² head into a KL blow-up.
    lr_warmup_epochs: float = 0.0

    def __post_init__(self):
        checks = [
            (self.model in ("vae", "dcgan"), f"model must be vae or dcgan, not '{self.model}'"),
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 2, "batch_size must be >= 2 (BatchNorm needs more than one image)"),
            (self.learning_rate > 0, "learning_rate must be > 0"),
            (0 <= self.adam_beta1 < 1 and 0 <= self.adam_beta2 < 1, "Adam betas must lie in [0, 1)"),
            (self.beta_kl >= 0, "beta_kl must be >= 0"),
            (self.recon_loss in ("mse", "bce", "gaussian"), "recon_loss must be mse, bce or gaussian"),
            (self.recon_loss != "gaussian" or self.recon_reduction == "sum",
             "recon_loss gaussian is a log-likelihood: it needs recon_reduction sum"),
            (self.recon_reduction in ("mean", "sum"), "recon_reduction must be mean or sum"),
            (self.kl_anneal_epochs >= 0 and self.max_steps >= 0 and self.max_images >= 0
             and self.eval_max_images >= 0, "counts must be >= 0"),
            (0 < self.test_fraction < 1, "test_fraction must lie strictly between 0 and 1"),
            (self.precision in ("auto", "fp32", "bf16"), "precision must be auto, fp32 or bf16"),
            (1 <= self.sample_count <= 256, "sample_count must be 1..256"),
            (0 <= self.ema_decay < 1, "ema_decay must lie in [0, 1)"),
            (self.adversarial_weight >= 0, "adversarial_weight must be >= 0"),
            (self.adversarial_weight == 0 or self.model == "vae",
             "adversarial_weight is for the VAE's decoder (the DCGAN is adversarial already)"),
            (self.r1_gamma >= 0, "r1_gamma must be >= 0"),
            (self.r1_gamma == 0 or self.model == "dcgan" or self.adversarial_weight > 0,
             "r1_gamma regularises a discriminator: a VAE has one only with --adversarial-weight"),
            (self.r1_interval >= 1, "r1_interval must be >= 1"),
            (self.r1_interval == 1 or self.r1_gamma > 0, "r1_interval spaces the R1 penalty: set --r1-gamma too"),
            (0 <= self.lr_decay_epochs <= self.epochs, "lr_decay_epochs must lie in 0..epochs"),
            (0 <= self.lr_warmup_epochs <= self.epochs - self.lr_decay_epochs,
             "lr_warmup_epochs must lie in 0..epochs − lr_decay_epochs"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass(frozen=True)
class Preset:
    model_config: VAEConfig | DCGANConfig
    train: dict


FASHION = VAEConfig(image_size=28, image_channels=1, latent_dim=32, hidden_channels=(32, 64, 128), dense_dim=512)
# seed 003: Adam 1e-3, batch 128, BCE summed over pixels, KL annealed over 30 epochs.
FASHION_TRAIN = dict(recon_loss="bce", recon_reduction="sum", beta_kl=1.0, kl_anneal_epochs=30, epochs=50,
                     flip=False)
# seed 002, plus an EMA of G (half-life ≈ 700 steps, ≈ 2 epochs of 58k faces at batch 128)
DCGAN_TRAIN = dict(model="dcgan", learning_rate=2e-4, adam_beta1=0.5, adam_beta2=0.999, epochs=40, ema_decay=0.999)

# The σ-VAE's Gaussian likelihood, summed over pixels (its σ is set inside the loss).
SIGMA_LOSS = dict(recon_loss="gaussian", recon_reduction="sum")
WIDE_VAE = VAEConfig(hidden_channels=(48, 96, 192, 384))
WIDE_TRAIN = {**SIGMA_LOSS, "beta_kl": 0.25, "epochs": 32, "lr_decay_epochs": 12}

PRESETS: dict[str, Preset] = {
    "vae-anime64": Preset(VAEConfig(), dict(epochs=80)),
    # Seed 000's network with a calibrated decoder (σ-VAE) and the plain ELBO's β = 1: sharper faces.
    "vae-anime64-sigma": Preset(VAEConfig(), {**SIGMA_LOSS, "beta_kl": 1.0, "epochs": 30}),
    # The σ-VAE's reconstructions bound its FID (rFID 92), so: a 4×4 bottleneck (four convs, not five) and wider
    # layers at full resolution, at the σ-VAE's speed on a CPU; β = 0.25 lets the codes carry more of the face
    # (the fitted prior samples the codes wherever they land), and the rate falls to 0 over the last 12 epochs.
    "vae-anime64-wide": Preset(WIDE_VAE, WIDE_TRAIN),
    # The wide σ-VAE's rFID (79.5) still bounds it; its last layer draws each pixel linearly from 2×2 half-resolution
    # features. Sixteen full-resolution maps and a 3×3 conv give the decoder pixel-scale edges (≈ 0.85× its speed).
    # Without a warm-up its log σ² head blew up within Adam's first steps (KL 1e9 nats, epoch 1 at PSNR 11 dB).
    "vae-anime64-refine": Preset(dataclasses.replace(WIDE_VAE, refine_channels=16),
                                 {**WIDE_TRAIN, "lr_warmup_epochs": 1.0}),
    "dcgan-anime64": Preset(DCGANConfig(), DCGAN_TRAIN),
    "dcgan-anime128": Preset(DCGANConfig(image_size=128, latent_dim=256), DCGAN_TRAIN),  # seed 004
    "vae-fashion28": Preset(FASHION, FASHION_TRAIN),
    "vae-fashion28-beta4": Preset(FASHION, {**FASHION_TRAIN, "beta_kl": 4.0}),  # β-VAE, seed 003
    # Tiny presets: the real code paths in seconds on a CPU (tests and smoke runs).
    # β = 1e-4: at 16×16 the seed's 1/(H·W) weighs the KL so heavily against 768 pixels that z collapses.
    "vae-tiny": Preset(VAEConfig(image_size=16, latent_dim=16, hidden_channels=(8, 16, 32), dense_dim=128),
                       dict(epochs=2, batch_size=16, learning_rate=2e-3, beta_kl=1e-4, sample_count=16)),
    "dcgan-tiny": Preset(DCGANConfig(image_size=16, latent_dim=16, generator_width=16, discriminator_width=16),
                         {**DCGAN_TRAIN, "epochs": 2, "batch_size": 32, "sample_count": 16,
                          "ema_decay": 0.9}),  # a short run: a short average
}


def build_configs(preset: str, overrides: dict) -> tuple[TrainConfig, VAEConfig | DCGANConfig]:
    """Apply command-line overrides (field name → value) to a preset; unknown or misplaced keys are errors."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset '{preset}' (choose from {', '.join(PRESETS)})")
    base = PRESETS[preset]
    model_fields = {f.name for f in dataclasses.fields(base.model_config)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    misplaced = sorted(set(overrides) - model_fields - train_fields)
    if misplaced:
        raise ValueError(f"options not used by preset '{preset}': {', '.join('--' + k.replace('_', '-') for k in misplaced)}")
    train = TrainConfig(**{**base.train, **{k: v for k, v in overrides.items() if k in train_fields}})
    model = dataclasses.replace(base.model_config, **{k: v for k, v in overrides.items() if k in model_fields})
    return train, model
