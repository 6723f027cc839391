"""One loaded model for exploring: the network, its atlas, its card, and every latent-space operation the
front ends offer (decode, encode/reconstruct, directions for sliders, neighbours, placement on the map)."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from explorer.errors import CheckpointError, RequestError, TrainerCheckpointError
from explorer.glossary import subject
from trainer.models import INVERSION_DIR, ConvVAE, InversionEncoder, load_model
from trainer.models.atlas import Atlas, load_atlas
from trainer.models.checkpoint import BUILDING_NAME, read_checkpoint_config
from trainer.models.latent_prior import LatentPrior, has_latent_prior, load_latent_prior


REFINE_STEPS = 40  # DCGAN reconstructions: ≈ 1 s on 2 CPU cores at 64×64; the gain is checked in the tests
# At most 2 refinements at once, whoever asks: each is ~40 forward and backward passes, and more at once on a
# small machine only slows every other request down.
HEAVY_WORK = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class SliderDirection:
    """One slider: moving it by 1 moves the latent by ``scale`` along the unit ``vector``."""

    name: str
    vector: np.ndarray  # (D,)
    scale: float  # σ of the encoded data along the vector
    kind: str  # "latent" (a VAE dimension by KL), "pca" (principal axis) or "attribute" (a named tag)
    score: float | None = None


@contextmanager
def as_explorer_error():
    """The trainer's checkpoint errors (wrong, stale or missing files) as the explorer's, which front ends show."""
    try:
        yield
    except TrainerCheckpointError as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(str(error)) from error


class ExplorerModel:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.name = self.directory.name
        self.fingerprint = folder_fingerprint(self.directory)  # before loading: a rewrite meanwhile shows up
        with as_explorer_error():
            self.model = load_model(self.directory)
            self.atlas: Atlas = load_atlas(self.directory)
            self.encoder = self._encoder()
        # Channels-last convolutions on the CPU: the best VAE's decode 2.9 → 2.3 ms, its encode 2.1 → 1.9 ms, the
        # server's CPU per request of benchmarks/load.py's mix 8% lower; 1 pixel value in 10⁵ moves, by one level.
        for network in {self.model, self.encoder}:
            network.to(memory_format=torch.channels_last)
        self.is_vae = isinstance(self.model, ConvVAE)
        # How it was trained (loss, β, …), as config.json records it; empty for folders that predate the record.
        self.train_config: dict = read_checkpoint_config(self.directory).get("training", {}).get("train_config", {})

    def _encoder(self):
        if isinstance(self.model, ConvVAE):
            return self.model
        inversion = self.directory / INVERSION_DIR
        if not (inversion / "config.json").is_file():
            raise CheckpointError(f"{self.directory} holds a DCGAN without its inversion encoder ({INVERSION_DIR}/)")
        return InversionEncoder.from_pretrained(inversion)

    @property
    def subject(self) -> str:
        """What it draws ("face", "garment" or "image"), from the data its atlas encodes: the words of the app."""
        return subject(sorted({str(source) for source in self.atlas.source}))

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @property
    def image_size(self) -> int:
        return self.model.config.image_size

    @property
    def image_channels(self) -> int:
        return self.model.config.image_channels

    # ── decoding ─────────────────────────────────────────────────────────────────────────────────────
    @torch.inference_mode()
    def decode(self, latents: np.ndarray) -> np.ndarray:
        """(D,) or (B, D) latents → uint8 images (H, W, C) or (B, H, W, C)."""
        single = latents.ndim == 1
        z = torch.from_numpy(np.atleast_2d(latents).astype(np.float32))
        images = self.model.decode(z).clamp(0, 1).mul(255).add(0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return images[0] if single else images

    def random_latent(self, seed: int, temperature: float = 1.0, prior: str = "normal") -> np.ndarray:
        """z ~ N(0, temperature² I), the same for a seed in every front end (temperature < 1: truncation);
        ``prior="fitted"``: z from the VAE's fitted latent prior, its spread scaled by the temperature."""
        generator = torch.Generator().manual_seed(int(seed))
        if prior == "fitted":
            return self.latent_prior.sample(1, generator, temperature)[0].numpy()
        if prior != "normal":
            raise RequestError(f"unknown prior '{prior}' (normal or fitted)")
        return (torch.randn(self.latent_dim, generator=generator) * float(temperature)).numpy()

    @property
    def has_fitted_prior(self) -> bool:
        return self.is_vae and has_latent_prior(self.directory)

    @cached_property
    def latent_prior(self) -> LatentPrior:
        """The Gaussian mixture fitted to the encoded training faces (``python -m trainer fit-prior``)."""
        if not self.is_vae:
            raise CheckpointError(f"{self.name} is a GAN: it samples the prior it was trained with, N(0, I)")
        with as_explorer_error():
            prior = load_latent_prior(self.directory)
        if prior.latent_dim != self.latent_dim:
            raise CheckpointError(f"{self.name}'s latent prior is {prior.latent_dim}-d, the model {self.latent_dim}-d")
        return prior

    # ── encoding ─────────────────────────────────────────────────────────────────────────────────────
    def encode(self, image: np.ndarray, refine_steps: int | None = None) -> np.ndarray:
        """uint8 (C, H, W) at the model's size → its latent (D,): the VAE's μ; for the DCGAN the inversion
        encoder's code, then refined by ``refine_steps`` of gradient descent on the pixel error (the
        "hybrid" GAN inversion of Zhu et al. 2016: the encoder starts close, optimisation closes the gap)."""
        x = torch.tensor(image, dtype=torch.float32).div(255).unsqueeze(0)  # copies: uploads are read-only
        with torch.inference_mode():
            z = self.encoder.encode(x)[0]
        steps = (0 if self.is_vae else REFINE_STEPS) if refine_steps is None else refine_steps
        if steps:
            with HEAVY_WORK:
                z = self._refine(z.clone(), x, steps)
        return z[0].detach().numpy().astype(np.float32)

    def _refine(self, z: torch.Tensor, target: torch.Tensor, steps: int) -> torch.Tensor:
        z.requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=0.05)
        self.model.requires_grad_(False)
        for _ in range(steps):
            loss = torch.nn.functional.mse_loss(self.model.decode(z), target) + 1e-3 * z.pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return z

    # ── slider directions ────────────────────────────────────────────────────────────────────────────
    @cached_property
    def _atlas_mu(self) -> np.ndarray:
        return self.atlas.mu.astype(np.float32)

    def _spread(self, vector: np.ndarray) -> float:
        return float((self._atlas_mu @ vector).std()) or 1.0

    def top_directions(self, count: int = 8) -> list[SliderDirection]:
        """The VAE's most active latent dimensions by mean KL (seed 003's traversal); for the DCGAN, the
        principal axes of its encoded dataset (GANSpace)."""
        if self.is_vae:
            order = np.argsort(-self.atlas.kl_per_dim)[:count]
            return [SliderDirection(f"z{d} (KL {self.atlas.kl_per_dim[d]:.2f})", np.eye(self.latent_dim, dtype=np.float32)[d],
                                    float(self.atlas.mu_std[d]) or 1.0, "latent") for d in order]
        return [SliderDirection(f"PC{i + 1} ({self.atlas.pca_explained[i]:.1%})", vector, self._spread(vector), "pca")
                for i, vector in enumerate(self.atlas.pca_components[:count])]

    def attribute_directions(self, count: int = 8, min_score: float = 0.6) -> list[SliderDirection]:
        """Named directions ("hair: blonde"), best separated first."""
        order = np.argsort(-self.atlas.direction_scores)
        chosen = [i for i in order if self.atlas.direction_scores[i] >= min_score][:count]
        return [SliderDirection(str(self.atlas.direction_names[i]), self.atlas.direction_vectors[i],
                                self._spread(self.atlas.direction_vectors[i]), "attribute",
                                float(self.atlas.direction_scores[i])) for i in chosen]

    # ── the map ──────────────────────────────────────────────────────────────────────────────────────
    def neighbours(self, latent: np.ndarray, count: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Indices into the atlas of the ``count`` nearest encoded images, and their distances."""
        distances = np.linalg.norm(self._atlas_mu - latent[None, :], axis=1)
        nearest = np.argpartition(distances, min(count, len(distances) - 1))[:count]
        nearest = nearest[np.argsort(distances[nearest])]
        return nearest, distances[nearest]

    def place_on_map(self, latent: np.ndarray, map_name: str, count: int = 8) -> np.ndarray:
        """Map coordinates for a latent the map was not computed with: the inverse-distance-weighted mean
        of its nearest neighbours' positions (an exact match lands on its own point)."""
        nearest, distances = self.neighbours(latent, count)
        if distances[0] < 1e-6:
            return self.atlas.maps[map_name][nearest[0]].copy()
        weights = 1.0 / distances
        return (self.atlas.maps[map_name][nearest] * weights[:, None]).sum(0) / weights.sum()

    # ── what the model page shows ────────────────────────────────────────────────────────────────────
    @cached_property
    def metrics(self) -> dict:
        path = self.directory / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    @cached_property
    def card(self) -> str:
        path = self.directory / "MODEL_CARD.md"
        return path.read_text(encoding="utf-8") if path.is_file() else f"# {self.name}\n\n(no model card)"


def folder_fingerprint(directory: Path) -> tuple:
    """Each file of a model folder with its size and write time: a folder rebuilt or re-embedded has another
    (and one being rewritten while it is read, None)."""
    try:
        return tuple(sorted((str(p.relative_to(directory)), p.stat().st_size, p.stat().st_mtime_ns)
                            for p in Path(directory).rglob("*") if p.is_file()))
    except OSError:
        return None


def discover_models(root: Path) -> list[Path]:
    """Checkpoint folders under ``root`` (each with a config.json), sorted by name; not one that a build is
    still writing."""
    return sorted(p.parent for p in Path(root).glob("*/config.json") if not (p.parent / BUILDING_NAME).exists())
