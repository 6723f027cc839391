"""``python -m trainer evaluate``: how good a shipped checkpoint is, measured offline.

Generation: FID, KID, precision/recall and density/coverage of N seeded samples against N real images of
the reference split (Inception pool3 features; reference features cached). Reconstruction: MSE, PSNR and
SSIM on the whole test split (VAE: its encoder's μ; DCGAN: its inversion encoder, without the app's
refinement steps), and the FID/KID of N reconstructed test faces against the same real reference (rFID). A VAE folder with a fitted latent prior (``fit-prior``) has its samples from that prior
measured as well, under ``generation_fitted_prior``. Disentanglement: linear probes and MIG for every labelled attribute. Inception Score is
reported as not available (see ``INCEPTION_SCORE``). The figures go into the folder's ``metrics.json`` (key
``evaluation``) and a section of ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from trainer.atomic import atomic_write_json, atomic_write_text
from trainer.data import load_image_data
from trainer.data.synthetic import FACTOR_NAMES
from trainer.embed.encode import encode_images
from trainer.embed.pipeline import latent_encoder, stage
from trainer.metrics import disentanglement as dis
from trainer.metrics.errors import MetricsError
from trainer.metrics.feature_cache import cached_features
from trainer.metrics.generation import (frechet_distance, kernel_distance, precision_recall_density_coverage)
from trainer.metrics.inception import PREPROCESSING, InceptionFeatures
from trainer.metrics.reconstruction import reconstruction_figures
from trainer.metrics.report import replace_card_section, evaluation_section
from trainer.models import INVERSION_DIR, load_model, read_checkpoint_config
from trainer.models.atlas import TAG_KEYS
from trainer.models.checkpoint import WEIGHTS_NAME, sha256_of_file
from trainer.models.latent_prior import LatentPrior, has_latent_prior, load_latent_prior, valid_temperature
from trainer.runtime import start_runtime

log = logging.getLogger("trainer")
INCEPTION_SCORE = {
    "available": False,
    "reason": "Inception Score needs the ImageNet classifier head of Inception-v3; the only offline Inception "
              "network here (the FID network) ships without it, and another classifier under that name would "
              "give numbers not comparable with published IS",
}


@torch.no_grad()
def generate(model, count: int, seed: int, device: torch.device, batch_size: int = 250,
             prior: LatentPrior | None = None, temperature: float = 1.0) -> torch.Tensor:
    """``count`` seeded samples z ~ N(0, I) (or the fitted ``prior``), their spread scaled by ``temperature`` as
    the app's slider scales it → images, quantised to uint8 as a saved PNG would be."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, count, batch_size):
        n = min(batch_size, count - start)
        z = (prior.sample(n, generator, temperature) if prior
             else torch.randn(n, model.latent_dim, generator=generator) * temperature)
        out.append(quantised(model.decode(z.to(device))))
    return torch.cat(out)


def quantised(images: torch.Tensor) -> torch.Tensor:
    """Decoded images in [0, 1] → uint8 on the CPU, as a saved PNG would hold them."""
    return (images.float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()


@dataclass(frozen=True)
class Reference:
    """The real images every FID of one evaluation compares against, and their Inception features: computed
    once per run (with --no-cache, four generation stages each recomputed them: 10k images ≈ 15 min a time)."""
    split: str
    indices: np.ndarray
    features: np.ndarray
    cached: bool

    @classmethod
    def chosen(cls, data, extractor, split: str, count: int, seed: int, feature_cache: Path | None) -> "Reference":
        indices = reference_indices(data.is_test, split, count, seed)
        features, cached = cached_features(extractor, data.images[torch.from_numpy(indices)], feature_cache)
        return cls(split, indices, features, cached)

    def selection(self, data, seed: int) -> str:
        whole = int((data.is_test if self.split == "test" else ~data.is_test).sum())
        return "all" if len(self.indices) == whole else f"random subset, seed {seed}"


@torch.no_grad()
def reconstruction_realism(encode, decode, data, reference: Reference, extractor, *, num_samples: int, seed: int,
                           device: torch.device, feature_cache: Path | None, batch_size: int = 250) -> dict:
    """rFID: FID and KID of decode(encode(x)) for ``num_samples`` test faces against the samples' real reference
    set. It measures the decoder apart from the latent distribution: samples from any prior are drawn by the
    same decoder, so a VAE whose reconstructions are far from real faces cannot sample close to them either."""
    chosen = torch.from_numpy(reference_indices(data.is_test, "test", num_samples, seed + 2))
    faces = data.images[chosen]
    rebuilt = torch.cat([quantised(decode(encode(x.to(device).float() / 255.0)[0]))
                         for x in faces.split(batch_size)])
    fake, _ = cached_features(extractor, rebuilt, feature_cache, "reconstruction features")
    return {"fid": frechet_distance(reference.features, fake), "kid": kernel_distance(reference.features, fake, seed),
            "images": int(len(chosen)), "split": "test"}


def reference_indices(is_test: np.ndarray, split: str, count: int, seed: int) -> np.ndarray:
    pool = np.flatnonzero(is_test if split == "test" else ~is_test)
    if len(pool) < 2:
        raise MetricsError(f"the {split} split has {len(pool)} images: too few to evaluate against")
    if count >= len(pool):
        return pool
    return np.sort(np.random.default_rng(seed).choice(pool, count, replace=False))


def generation_figures(model, data, reference: Reference, extractor, *, num_samples, seed, device, feature_cache,
                       prior: LatentPrior | None = None, temperature: float = 1.0) -> dict:
    real = reference.features
    # Cached by pixels too: re-evaluating unchanged weights (seeded samples) costs no Inception pass.
    samples = generate(model, num_samples, seed + 1, device, prior=prior, temperature=temperature)
    fake, _ = cached_features(extractor, samples, feature_cache, "sample features")
    drawn = (f"z ~ fitted latent prior ({prior.manifest.get('components', len(prior.weights))}-component "
             f"Gaussian mixture on the training split's μ)" if prior else "z ~ N(0, I)")
    return {
        "fid": frechet_distance(real, fake), "kid": kernel_distance(real, fake, seed),
        **precision_recall_density_coverage(real, fake),
        "samples": num_samples, "temperature": temperature,
        "sampling": f"{drawn}, seed {seed + 1}, temperature {temperature:g}, quantised to uint8",
        "reference": {"split": reference.split, "images": int(len(reference.indices)),
                      "features_cached": reference.cached, "selection": reference.selection(data, seed)},
        "feature_network": extractor.identity, "preprocessing": PREPROCESSING,
    }


def attribute_figures(mu: np.ndarray, data, seed: int) -> dict:
    probes, factors = {}, {}
    for key in TAG_KEYS:
        if key not in data.tags:
            continue
        labels = np.array([v or "" for v in data.tags[key]])
        probe = dis.categorical_probe(mu, labels, data.is_test, seed)
        if probe:
            probes[key] = probe
            factors[key] = dis.label_codes(labels)
    if data.factors is not None:  # synthetic faces: the known continuous factors
        for column, name in enumerate(FACTOR_NAMES):
            target = data.factors[:, column]
            probes[f"factor: {name}"] = dis.continuous_probe(mu, target, data.is_test)
            factors[f"factor: {name}"] = dis.discretise(target[:, None], 10)[:, 0]
    if not probes:
        return {"available": False, "reason": "the data carries no tags, classes or known factors"}
    return {"probes": probes, "mig": dis.mutual_information_gap(mu, factors), "images": len(mu),
            "latents": "encoder μ (train split fits the probes, test split scores them)"}


def run_evaluate(checkpoint: Path, specs: list[str], *, num_samples: int = 10_000, reference: str = "train",
                 device: str = "auto", seed: int = 0, data_cache: Path | None = None,
                 feature_cache: Path | None = None, max_images: int | None = None,
                 temperatures: tuple[float, ...] = ()) -> dict:
    if num_samples < 10:  # arguments first: a nonsense one fails before any file is read
        raise MetricsError("--num-samples must be at least 10")
    if reference not in ("train", "test"):
        raise MetricsError("--reference must be train or test")
    if not all(valid_temperature(t) for t in temperatures):
        raise MetricsError("--temperatures must lie in (0, 2], as the app's temperature slider")
    checkpoint = Path(checkpoint)
    meta = read_checkpoint_config(checkpoint)
    runtime = start_runtime(device, "fp32", channels_last=False)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # figures in full fp32
    model = load_model(checkpoint).to(runtime.device).eval()
    encoder = latent_encoder(model, checkpoint).to(runtime.device).eval()
    config = model.config
    test_fraction = meta.get("training", {}).get("train_config", {}).get("test_fraction", 0.2)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with stage("load data", timings):
        data = load_image_data(specs, config.image_size, config.image_channels, test_fraction=test_fraction,
                               max_images=max_images, cache_dir=data_cache, seed=seed)
    with stage("load Inception", timings):
        extractor = InceptionFeatures(runtime.device)
    with stage("reference features", timings):
        real = Reference.chosen(data, extractor, reference, num_samples, seed, feature_cache)
    with stage("generation", timings):
        generation = generation_figures(model, data, real, extractor, num_samples=num_samples, seed=seed,
                                        device=runtime.device, feature_cache=feature_cache)
    fitted, prior = {}, load_latent_prior(checkpoint) if has_latent_prior(checkpoint) else None
    if prior:  # a VAE with an ex-post prior: its samples are measured too
        with stage("generation (fitted prior)", timings):
            fitted = {"generation_fitted_prior": generation_figures(
                model, data, real, extractor, num_samples=num_samples, seed=seed, device=runtime.device,
                feature_cache=feature_cache, prior=prior)}
    sweep = {}
    if temperatures:  # the truncation trade-off, from the prior the app samples best from
        with stage("temperature sweep", timings):
            sweep = {"temperature_sweep": [generation_figures(
                model, data, real, extractor, num_samples=num_samples, seed=seed, device=runtime.device,
                feature_cache=feature_cache, prior=prior, temperature=t)
                for t in temperatures]}
    with stage("reconstruction", timings):
        test_images = data.images[data.split_indices("test")]
        reconstruction = reconstruction_figures(encoder.encode, model.decode, test_images, runtime.device)
        reconstruction.update(split="test", encoder="VAE encoder μ" if encoder is model else
                              "inversion encoder z, without the app's refinement steps")
    with stage("reconstruction FID", timings):
        reconstruction["realism"] = reconstruction_realism(
            encoder.encode, model.decode, data, real, extractor, num_samples=num_samples, seed=seed,
            device=runtime.device, feature_cache=feature_cache)
    with stage("disentanglement", timings):
        mu, _ = encode_images(encoder.encode, data.images.to(runtime.device), runtime)
        attributes = attribute_figures(mu, data, seed)
    evaluation = {
        "generation": generation, **fitted, **sweep, "inception_score": INCEPTION_SCORE,
        "reconstruction": reconstruction, "disentanglement": attributes,
        "data": {"sources": data.provenance, "images": len(data), "test_images": int(data.is_test.sum())},
        "weights_sha256": sha256_of_file(checkpoint / WEIGHTS_NAME),
        **({"inversion_sha256": sha256_of_file(checkpoint / INVERSION_DIR / WEIGHTS_NAME)} if encoder is not model
           else {}),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hardware": runtime.hardware(), "seed": seed, "timings_s": timings,
        "wall_time_s": round(time.perf_counter() - started, 1),
        "command": " ".join(["python -m trainer evaluate", f"--checkpoint {checkpoint}",
                             *[f"--data {s}" for s in specs], f"--num-samples {num_samples}",
                             f"--reference {reference}",
                             *([f"--temperatures {' '.join(f'{t:g}' for t in temperatures)}"] if temperatures
                               else [])]),
    }
    save_evaluation(checkpoint, evaluation)
    log.info("FID %.2f, KID %.4f, precision %.3f, recall %.3f, test PSNR %.2f dB, SSIM %.3f, reconstruction FID "
             "%.2f (%.0f s)", generation["fid"], generation["kid"]["mean"], generation["precision"],
             generation["recall"], reconstruction["psnr"], reconstruction["ssim"], reconstruction["realism"]["fid"],
             evaluation["wall_time_s"])
    if fitted:
        g = fitted["generation_fitted_prior"]
        log.info("fitted prior: FID %.2f, KID %.4f, precision %.3f, recall %.3f", g["fid"], g["kid"]["mean"],
                 g["precision"], g["recall"])
    for g in sweep.get("temperature_sweep", []):
        log.info("temperature %g: FID %.2f, precision %.3f, recall %.3f", g["temperature"], g["fid"],
                 g["precision"], g["recall"])
    return evaluation


def save_evaluation(checkpoint: Path, evaluation: dict) -> None:
    metrics_path = checkpoint / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    atomic_write_json(metrics_path, {**metrics, "evaluation": evaluation})
    card = checkpoint / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else f"# {checkpoint.name}\n"
    atomic_write_text(card, replace_card_section(text, evaluation_section(evaluation)))
