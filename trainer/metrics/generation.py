"""Sample-quality figures from two sets of Inception features: FID, KID, precision/recall, density/coverage.

Each is the maintained implementation of its authors' or the field's reference: FID and KID from
torch-fidelity (FID as in TTUR; KID, Bińkowski et al. 2018, the unbiased MMD² with the cubic polynomial kernel
averaged over random subsets), precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al.
2020) from ``prdc``, the latter's authors' package.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch
from prdc import compute_prdc
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

from trainer.metrics.errors import MetricsError

KID_SUBSETS, KID_SUBSET_SIZE, NEAREST_K = 100, 1000, 5


def _check(real: np.ndarray, fake: np.ndarray, minimum: int) -> None:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise MetricsError(f"feature sets must be (N, D) with the same D, got {real.shape} and {fake.shape}")
    if min(len(real), len(fake)) < minimum:
        raise MetricsError(f"need at least {minimum} images per set, got {len(real)} and {len(fake)}")


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """FID: ‖μ_r − μ_f‖² + Tr(Σ_r + Σ_f − 2(Σ_r Σ_f)^½) of the Gaussians fitted to the two feature sets."""
    _check(real, fake, 2)
    stats = [fid_features_to_statistics(torch.from_numpy(np.asarray(f, np.float64))) for f in (real, fake)]
    return float(fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"])


def kernel_distance(real: np.ndarray, fake: np.ndarray, seed: int = 0, subsets: int = KID_SUBSETS,
                    subset_size: int = KID_SUBSET_SIZE) -> dict:
    """KID: mean and std of the unbiased MMD² over ``subsets`` random subsets (smaller of 1000 and the sets)."""
    _check(real, fake, 2)
    size = min(subset_size, len(real), len(fake))
    out = kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=subsets,
                                 kid_subset_size=size, rng_seed=seed, verbose=False)
    return {"mean": float(out[KEY_METRIC_KID_MEAN]), "std": float(out[KEY_METRIC_KID_STD]),
            "subsets": subsets, "subset_size": size}


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, nearest_k: int = NEAREST_K) -> dict:
    """k-NN manifold estimates: precision = share of fakes inside the real manifold, recall = share of reals
    inside the fake one; density and coverage are their outlier-robust versions."""
    _check(real, fake, nearest_k + 2)
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        out = compute_prdc(real.astype(np.float32), fake.astype(np.float32), nearest_k)
    return {**{k: float(v) for k, v in out.items()}, "nearest_k": nearest_k}
