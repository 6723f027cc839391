"""A VAE's fitted latent prior: a Gaussian mixture over the encoded training faces, stored beside the
checkpoint as ``latent_prior.safetensors`` (tensors + a JSON manifest in the file's metadata; no pickle).

Why: a VAE's aggregate posterior (where its encoder actually puts faces) does not fill N(0, I); sampling
N(0, I) lands in regions the decoder never learned and gives off-manifold faces. Fitting a density to the
encoded training set after training and sampling from it instead is Ghosh et al. (2020), "From Variational to
Deterministic Autoencoders", §4 ("ex-post density estimation", a 10-component full-covariance GMM).

It is part of the checkpoint contract (the explorer samples from it), so it lives with the model format;
fitting it (scikit-learn) is in ``trainer.embed.prior``. A prior fitted to other weights is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

MAX_TEMPERATURE = 2.0  # the spread of z may be scaled by 0 < T <= 2 (the app's slider, sample, evaluate)


def valid_temperature(temperature: float) -> bool:
    """Whether ``temperature`` may scale a sample's spread: 0 < T <= MAX_TEMPERATURE (T < 1: truncation)."""
    return 0 < temperature <= MAX_TEMPERATURE
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from trainer.atomic import atomic_write
from trainer.models.checkpoint import WEIGHTS_NAME, CheckpointError, sha256_of_file

PRIOR_NAME = "latent_prior.safetensors"


class LatentPriorError(CheckpointError):
    """The latent prior file is unreadable, malformed, or was fitted to other weights."""


@dataclass
class LatentPrior:
    weights: np.ndarray  # (K,) mixing weights, summing to 1
    means: np.ndarray  # (K, D)
    cholesky: np.ndarray  # (K, D, D) lower-triangular factors of the component covariances
    manifest: dict = field(default_factory=dict)

    @property
    def latent_dim(self) -> int:
        return self.means.shape[1]

    def sample(self, count: int, generator: torch.Generator | None = None, temperature: float = 1.0
               ) -> torch.Tensor:
        """(count, D) latents: pick a component by weight, then its mean + temperature · L ε, ε ~ N(0, I).
        Seeded through ``generator`` like ``ConvVAE.sample``."""
        weights = torch.from_numpy(self.weights.astype(np.float64))
        component = torch.multinomial(weights, count, replacement=True, generator=generator)
        noise = torch.randn(count, self.latent_dim, generator=generator) * float(temperature)
        means = torch.from_numpy(self.means.astype(np.float32))
        factors = torch.from_numpy(self.cholesky.astype(np.float32))
        return means[component] + torch.einsum("bij,bj->bi", factors[component], noise)

    def save(self, directory: Path) -> None:
        tensors = {"weights": self.weights.astype(np.float32), "means": self.means.astype(np.float32),
                   "cholesky": self.cholesky.astype(np.float32)}
        atomic_write(Path(directory) / PRIOR_NAME,
                     lambda tmp: save_file(tensors, str(tmp), metadata={"manifest": json.dumps(self.manifest)}))


def has_latent_prior(directory: Path) -> bool:
    return (Path(directory) / PRIOR_NAME).is_file()


def load_latent_prior(directory: Path) -> LatentPrior:
    """Read and check a folder's fitted prior: shapes agree, weights form a distribution, factors are
    finite with a positive diagonal, and it was fitted to the weights the folder holds."""
    directory = Path(directory)
    path = directory / PRIOR_NAME
    try:
        with safe_open(str(path), framework="np") as handle:  # the manifest is the header's metadata
            manifest = json.loads((handle.metadata() or {}).get("manifest", "{}"))
            prior = LatentPrior(*(handle.get_tensor(k) for k in ("weights", "means", "cholesky")), manifest)
    except FileNotFoundError:
        raise LatentPriorError(f"{directory} has no fitted latent prior: run "
                               f"'python -m trainer fit-prior --checkpoint {directory}'") from None
    except (OSError, ValueError, KeyError, SafetensorError, json.JSONDecodeError) as error:
        raise LatentPriorError(f"cannot read {path}: {error}") from None
    k, d = prior.means.shape if prior.means.ndim == 2 else (0, 0)
    diagonals = np.diagonal(prior.cholesky, axis1=1, axis2=2) if prior.cholesky.ndim == 3 else np.zeros(0)
    if (not k or prior.weights.shape != (k,) or prior.cholesky.shape != (k, d, d)
            or not all(np.isfinite(a).all() for a in (prior.weights, prior.means, prior.cholesky))
            or (prior.weights < 0).any() or abs(float(prior.weights.sum()) - 1) > 1e-3 or (diagonals <= 0).any()):
        raise LatentPriorError(f"{path} is malformed (weights {prior.weights.shape}, means {prior.means.shape}, "
                               f"cholesky {prior.cholesky.shape}; weights must sum to 1, factors be finite)")
    fitted_to = manifest.get("weights_sha256")
    if fitted_to != sha256_of_file(directory / WEIGHTS_NAME):
        raise LatentPriorError(f"stale latent prior in {directory}: it was fitted to other weights; run "
                               f"'python -m trainer fit-prior --checkpoint {directory}' again")
    return prior
