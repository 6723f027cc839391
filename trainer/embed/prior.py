"""``python -m trainer fit-prior`` (and the last stage of ``embed`` for a VAE): fit the ex-post latent prior of
Ghosh et al. (2020) to the atlas's encoded training faces and store it beside the checkpoint.

The fit is scored on the held-out test split: the mean log-density of the test faces' codes under the
mixture, beside their log-density under N(0, I). The gap says how far the encoder's codes are from the
prior the VAE was trained towards, that is, how much sampling N(0, I) misses.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from trainer.artifacts import grid_image, save_png
from trainer.models import ConvVAE, load_model, read_checkpoint_config
from trainer.models.atlas import Atlas, load_atlas
from trainer.models.checkpoint import WEIGHTS_NAME, sha256_of_file
from trainer.models.latent_prior import LatentPrior, LatentPriorError

log = logging.getLogger("trainer")
DEFAULT_COMPONENTS = 10  # Ghosh et al. (2020), §4


def fit_latent_prior(train_mu: np.ndarray, test_mu: np.ndarray, components: int = DEFAULT_COMPONENTS,
                     seed: int = 0) -> LatentPrior:
    """A ``components``-Gaussian full-covariance mixture fitted by EM (scikit-learn) to ``train_mu`` (N, D)."""
    if components < 1:
        raise LatentPriorError("--components must be at least 1")
    if len(train_mu) < 2 * components or len(train_mu) <= train_mu.shape[1]:
        raise LatentPriorError(f"{len(train_mu)} training codes are too few to fit {components} full-covariance "
                               f"Gaussians in {train_mu.shape[1]} dimensions")
    started = time.perf_counter()
    mixture = GaussianMixture(components, covariance_type="full", random_state=seed, max_iter=200,
                              reg_covar=1e-5).fit(train_mu.astype(np.float64))
    heldout = test_mu.astype(np.float64)
    manifest = {
        "method": f"Gaussian mixture, {components} full-covariance components, EM (scikit-learn), on the "
                  "encoder μ of the training split (Ghosh et al. 2020, ex-post density estimation)",
        "components": components, "train_codes": int(len(train_mu)), "converged": bool(mixture.converged_),
        "iterations": int(mixture.n_iter_), "seed": seed,
        "fit_seconds": round(time.perf_counter() - started, 2),
        "test_codes": int(len(heldout)),
        # Mean log-density (nats per face) of the held-out codes: the mixture against the training prior.
        "test_log_density": float(mixture.score(heldout)) if len(heldout) else None,
        "test_log_density_standard_normal": (float(multivariate_normal(np.zeros(heldout.shape[1])).logpdf(heldout).mean())
                                             if len(heldout) else None),
    }
    return LatentPrior(mixture.weights_.astype(np.float32), mixture.means_.astype(np.float32),
                       np.linalg.cholesky(mixture.covariances_).astype(np.float32), manifest)


def fit_prior_for_checkpoint(checkpoint: Path, atlas: Atlas | None = None, components: int = DEFAULT_COMPONENTS,
                             seed: int = 0) -> LatentPrior:
    """Fit the prior to a VAE folder's atlas (train split μ) and write ``latent_prior.safetensors``."""
    checkpoint = Path(checkpoint)
    if not isinstance(load_model(checkpoint), ConvVAE):
        raise LatentPriorError(f"{checkpoint} is not a VAE: a GAN's generator is trained on its own prior, so "
                               "a fitted one does not apply")
    atlas = atlas or load_atlas(checkpoint)
    mu = atlas.mu.astype(np.float32)
    prior = fit_latent_prior(mu[~atlas.is_test], mu[atlas.is_test], components, seed)
    prior.manifest.update(weights_sha256=sha256_of_file(checkpoint / WEIGHTS_NAME),
                          created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    prior.save(checkpoint)
    write_prior_samples(checkpoint, prior)
    log.info("latent prior: %d components fitted to %d codes in %.1f s; held-out log-density %.1f nats "
             "(N(0, I): %.1f)", components, prior.manifest["train_codes"], prior.manifest["fit_seconds"],
             prior.manifest["test_log_density"] or float("nan"),
             prior.manifest["test_log_density_standard_normal"] or float("nan"))
    return prior


def write_prior_samples(checkpoint: Path, prior: LatentPrior) -> None:
    """``samples.png``, the first faces a reader of the card sees, drawn as the app draws a VAE's samples:
    from the fitted prior (N(0, I) misses where the codes are and decodes to mush), seeded by the run's seed,
    as many as the run's sample grid."""
    train = read_checkpoint_config(checkpoint).get("training", {}).get("train_config", {})
    model = load_model(checkpoint).eval()
    z = prior.sample(int(train.get("sample_count", 64)), torch.Generator().manual_seed(int(train.get("seed", 0))))
    with torch.no_grad():
        save_png(grid_image(model.decode(z)), checkpoint / "samples.png")
