"""Train the DCGAN's inversion encoder (``python -m trainer invert``), after the GAN itself is trained.

(1) pairs: z ~ N(0, I), x = G(z); E learns z from x (latent MSE + pixel MSE of G(E(x))).
(2) real faces: E(x) must make G reproduce x: pixel MSE plus a feature loss on the frozen discriminator's
    last hidden layer (a perceptual loss from the network at hand; no ImageNet weights are downloaded), with
    a small pull of ‖E(x)‖² towards the prior's latent_dim so the codes stay where G was trained, and the
    pair loss of (1) alongside, so that refining on real faces does not undo the inversion of G itself.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from trainer.atomic import atomic_write_text
from trainer.metrics.reconstruction import psnr_db
from trainer.data import EpochBatches, eval_batches, load_image_data
from trainer.metrics.report import inversion_section, replace_card_section
from trainer.models import DCGAN, read_checkpoint_config
from trainer.models.inversion import INVERSION_DIR, InversionConfig, InversionEncoder
from trainer.running_means import LOG_INTERVAL
from trainer.runtime import start_runtime

log = logging.getLogger("trainer")


def discriminator_features(gan: DCGAN, images: torch.Tensor) -> torch.Tensor:
    """The discriminator's last hidden activations (B, 512, 4, 4) for images in [0, 1]."""
    return gan.discriminator.net[:-1](images * 2 - 1)


def pair_loss(encoder, gan: DCGAN, batch_size: int, noise: torch.Generator, runtime) -> torch.Tensor:
    """On generated pairs (G(z), z): latent MSE of E(G(z)) plus pixel MSE of G(E(G(z)))."""
    z = torch.randn(batch_size, gan.latent_dim, generator=noise, device=runtime.device)
    with torch.no_grad():
        x = gan.decode(z).float()
    z_hat = encoder(x)
    return F.mse_loss(z_hat.float(), z) + F.mse_loss(gan.decode(z_hat).float(), x)


def inversion_loss(encoder, gan, real, feature_weight: float, prior_weight: float) -> torch.Tensor:
    z = encoder(real)
    recon = gan.decode(z)
    pixel = F.mse_loss(recon.float(), real.float())
    feature = F.mse_loss(discriminator_features(gan, recon).float(), discriminator_features(gan, real).float())
    prior = (z.float().pow(2).sum(1).mean() / z.shape[1] - 1).pow(2)
    return pixel + feature_weight * feature + prior_weight * prior


def train_inversion(checkpoint: Path, specs: list[str], *, synthetic_steps: int = 3000, real_steps: int = 3000,
                    batch_size: int = 128, learning_rate: float = 1e-3, feature_weight: float = 0.1,
                    prior_weight: float = 0.01, seed: int = 0, device: str = "auto", precision: str = "auto",
                    cache_dir: Path | None = None, dtype: str = "float16") -> dict:
    """Stored as float16 by default (half the size, as the shipped weights; measured after the cast)."""
    checkpoint = Path(checkpoint)
    runtime = start_runtime(device, precision, channels_last=True)
    gan = DCGAN.from_pretrained(checkpoint).to(runtime.device).requires_grad_(False)
    config = InversionConfig(image_size=gan.config.image_size, image_channels=gan.config.image_channels,
                             latent_dim=gan.latent_dim)
    torch.manual_seed(seed)
    encoder = InversionEncoder(config).to(runtime.device).train()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=learning_rate, betas=(0.5, 0.999))
    noise = torch.Generator(device=runtime.device).manual_seed(seed)

    # (1) pairs (G(z), z): the encoder learns the generator's own mapping backwards
    for _ in tqdm(range(synthetic_steps), desc="invert: G(z) → z", leave=False):
        with runtime.autocast():
            loss = pair_loss(encoder, gan, batch_size, noise, runtime)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    # (2) real faces through G, with the discriminator's features as the perceptual term
    data = load_image_data(specs, config.image_size, config.image_channels, cache_dir=cache_dir, seed=seed)
    images, train_indices = data.images.to(runtime.device), data.split_indices("train")
    step, epoch = 0, 0
    bar = tqdm(total=real_steps, desc="invert: real faces", leave=False)
    while step < real_steps:
        for x in EpochBatches(images, train_indices, min(batch_size, len(train_indices)), seed=seed, epoch=epoch,
                              flip=True):
            with runtime.autocast():
                # The pair loss keeps E exact on G's own range while the real faces pull it towards the data.
                loss = (inversion_loss(encoder, gan, x, feature_weight, prior_weight)
                        + pair_loss(encoder, gan, len(x), noise, runtime))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            bar.update(1)
            if step % LOG_INTERVAL == 0:  # a read-back waits for the device
                bar.set_postfix(loss=f"{loss.item():.4f}")
            if step >= real_steps:
                break
        epoch += 1
    bar.close()

    if dtype == "float16":  # measure what is shipped: the weights as they will be loaded back
        encoder = encoder.half().float()
    metrics = evaluate_inversion(encoder.eval(), gan, images, data.split_indices("test"), runtime, seed)
    encoder.save_pretrained(checkpoint / INVERSION_DIR, dtype=getattr(torch, dtype), extra={"inversion": {
        "synthetic_steps": synthetic_steps, "real_steps": real_steps, "batch_size": batch_size,
        "learning_rate": learning_rate, "feature_weight": feature_weight, "prior_weight": prior_weight,
        "data": data.provenance, "metrics": metrics}})
    card = checkpoint / "MODEL_CARD.md"
    if card.is_file():  # a shipped folder: its card describes the encoder it now holds
        record = read_checkpoint_config(checkpoint / INVERSION_DIR)["inversion"]
        data_args = " ".join(f"--data {spec}" for spec in specs)
        atomic_write_text(card, replace_card_section(card.read_text(encoding="utf-8"),
                                                     inversion_section(record, checkpoint.name, data_args)))
    log.info("inversion encoder saved to %s: %s", checkpoint / INVERSION_DIR,
             ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    return metrics


@torch.no_grad()
def evaluate_inversion(encoder, gan, images, test_indices, runtime, seed: int) -> dict:
    """Test-split reconstruction G(E(x)) (MSE, PSNR) and latent recovery on fresh generated pairs."""
    mse_sum, psnr_sum, count = 0.0, 0.0, 0
    for x in eval_batches(images, test_indices, 256):
        with runtime.autocast():
            recon = gan.decode(encoder(x)).float()
        mse = (recon - x).pow(2).flatten(1).mean(1)
        mse_sum += mse.sum().item()
        psnr_sum += psnr_db(mse).sum().item()
        count += len(x)
    z = torch.randn(512, gan.latent_dim, generator=torch.Generator(device=runtime.device).manual_seed(seed + 1),
                    device=runtime.device)
    with runtime.autocast():
        z_hat = encoder(gan.decode(z).float()).float()
    return {"test_mse": mse_sum / max(count, 1), "test_psnr": psnr_sum / max(count, 1),
            "generated_latent_mse": F.mse_loss(z_hat, z).item(), "test_images": count}
