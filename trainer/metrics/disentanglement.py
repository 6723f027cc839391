"""How much of each labelled attribute the latent code holds, and how cleanly it is separated.

- Linear probe (the usual test of what a representation makes linearly available): a standardised
  multinomial logistic regression fit on the train split's codes, accuracy on the test split, beside the
  accuracy of always guessing the most common training label. Continuous factors (the synthetic faces'
  ground truth) get a ridge regression scored by test R².
- MIG, the mutual information gap (Chen et al. 2018, as computed in disentanglement_lib): each latent
  dimension histogram-binned, I(z_j; v_k) from scikit-learn, and per factor the gap between the two most
  informative dimensions divided by H(v_k); 1 = one dimension alone carries the factor, 0 = none does.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import mutual_info_score, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MIG_BINS = 20


def categorical_probe(latents: np.ndarray, labels: np.ndarray, is_test: np.ndarray, seed: int = 0) -> dict | None:
    """Labels are strings, "" where unknown. None when either split has too little to say anything."""
    known = labels != ""
    train, test = known & ~is_test, known & is_test
    classes = sorted(set(labels[train]))
    if len(classes) < 2 or test.sum() < 2:
        return None
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    probe.fit(latents[train], labels[train])
    values, counts = np.unique(labels[train], return_counts=True)
    majority = values[counts.argmax()]
    return {"accuracy": float((probe.predict(latents[test]) == labels[test]).mean()),
            "chance": float((labels[test] == majority).mean()), "classes": len(classes),
            "train_images": int(train.sum()), "test_images": int(test.sum())}


def continuous_probe(latents: np.ndarray, target: np.ndarray, is_test: np.ndarray) -> dict | None:
    if (~is_test).sum() < 2 or is_test.sum() < 2:
        return None
    probe = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(latents[~is_test], target[~is_test])
    return {"r2": float(r2_score(target[is_test], probe.predict(latents[is_test]))),
            "train_images": int((~is_test).sum()), "test_images": int(is_test.sum())}


def discretise(values: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """Equal-width histogram bins per column (disentanglement_lib's ``_histogram_discretize``)."""
    values = np.atleast_2d(values.T).T
    out = np.zeros(values.shape, np.int64)
    for column in range(values.shape[1]):
        edges = np.histogram(values[:, column], bins)[1]
        out[:, column] = np.digitize(values[:, column], edges[:-1])
    return out


def mutual_information_gap(latents: np.ndarray, factors: dict[str, np.ndarray]) -> dict | None:
    """``factors``: name → integer codes per image (−1 where unknown). Returns the mean gap and each factor's."""
    codes = discretise(latents)
    gaps = {}
    for name, factor in factors.items():
        known = factor >= 0
        if known.sum() < 2 or len(np.unique(factor[known])) < 2:
            continue
        entropy = mutual_info_score(factor[known], factor[known])
        information = np.sort([mutual_info_score(factor[known], codes[known, j]) for j in range(codes.shape[1])])
        second = information[-2] if len(information) > 1 else 0.0
        gaps[name] = float((information[-1] - second) / entropy)
    if not gaps:
        return None
    return {"score": float(np.mean(list(gaps.values()))), "per_factor": gaps, "bins": MIG_BINS}


def label_codes(labels: np.ndarray) -> np.ndarray:
    """Strings → integer codes, "" (unknown) → −1."""
    classes = sorted(set(labels) - {""})
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(v, -1) for v in labels], np.int64)
