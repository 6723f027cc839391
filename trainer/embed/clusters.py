"""Clusters of the encoded dataset.

k-means rather than HDBSCAN: every face gets a cluster (HDBSCAN labels much of a 128-d latent cloud as
noise), it is deterministic for a seed and fast on 58k points, and each centre is itself a latent the app
can decode as the cluster's prototype face.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


def kmeans_clusters(latents: np.ndarray, count: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N,) int16 labels and (count, D) float32 centres."""
    count = max(1, min(count, len(latents)))
    kmeans = KMeans(n_clusters=count, n_init=3, random_state=seed).fit(latents)
    return kmeans.labels_.astype(np.int16), kmeans.cluster_centers_.astype(np.float32)
