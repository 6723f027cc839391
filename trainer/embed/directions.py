"""Named attribute directions in latent space, and principal directions of the encoded data.

A tag direction is the difference of class means, μ(with tag) − μ(without), normalised (the simplest
estimator that works: Larsen et al. 2016 §5 add such "attribute vectors" to faces; White 2016 "Sampling
generative networks" §2.3). Its score is the held-out AUC of projecting test latents onto it: 0.5 means the
direction tells nothing, 1.0 that it separates the tag perfectly. A known continuous factor (synthetic faces)
gets a least-squares direction scored by held-out R².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score, roc_auc_score


@dataclass
class Direction:
    name: str
    vector: np.ndarray  # (D,) unit length
    score: float
    count: int
    method: str


def tag_directions(latents: np.ndarray, tags: dict[str, np.ndarray], is_test: np.ndarray,
                   min_count: int = 50) -> list[Direction]:
    """One direction per tag value with ≥ ``min_count`` training examples (and some on both test sides)."""
    found = []
    for key, values in sorted(tags.items()):
        known = values != ""
        for value in sorted(set(values[known & ~is_test])):
            positive = values == value
            train_pos, train_neg = positive & known & ~is_test, ~positive & known & ~is_test
            test_pos, test_neg = positive & known & is_test, ~positive & known & is_test
            if train_pos.sum() < min_count or train_neg.sum() < min_count or not test_pos.any() or not test_neg.any():
                continue
            vector = latents[train_pos].mean(0) - latents[train_neg].mean(0)
            vector = vector / (np.linalg.norm(vector) + 1e-12)
            held_out = test_pos | test_neg
            score = roc_auc_score(positive[held_out], latents[held_out] @ vector)
            found.append(Direction(f"{key}: {value}", vector.astype(np.float32), float(score),
                                   int(train_pos.sum()), "difference of class means; score = test AUC"))
    return found


def factor_directions(latents: np.ndarray, factors: np.ndarray, names: tuple[str, ...],
                      is_test: np.ndarray) -> list[Direction]:
    """Least-squares direction for each known continuous factor, scored by R² on the test split."""
    found = []
    for column, name in enumerate(names):
        target = factors[:, column]
        model = Ridge(alpha=1.0).fit(latents[~is_test], target[~is_test])
        vector = model.coef_ / (np.linalg.norm(model.coef_) + 1e-12)
        score = r2_score(target[is_test], model.predict(latents[is_test])) if is_test.sum() > 1 else float("nan")
        found.append(Direction(f"factor: {name}", vector.astype(np.float32), float(score),
                               int((~is_test).sum()), "ridge regression; score = test R²"))
    return found


def principal_directions(latents: np.ndarray, count: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The top principal axes of the encoded data (GANSpace, Härkönen et al. 2020, applied to latents):
    (count, D) unit vectors and their explained-variance ratios."""
    count = min(count, latents.shape[1], len(latents))
    pca = PCA(n_components=count, random_state=seed).fit(latents)
    return pca.components_.astype(np.float32), pca.explained_variance_ratio_.astype(np.float32)
