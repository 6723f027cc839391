"""2-D maps of the encoded dataset: UMAP (umap-learn), t-SNE (openTSNE, FFT-accelerated) and PCA."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from tqdm import tqdm


def pca_map(latents: np.ndarray, seed: int = 0) -> np.ndarray:
    return PCA(n_components=2, random_state=seed).fit_transform(latents).astype(np.float32)


def umap_map(latents: np.ndarray, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1) -> np.ndarray:
    import umap  # imported here: numba compiles on import, which only this stage needs

    reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, len(latents) - 1), min_dist=min_dist,
                        random_state=seed, n_jobs=1, verbose=False, tqdm_kwds={"desc": "umap epochs", "leave": False, "disable": False})
    return reducer.fit_transform(latents).astype(np.float32)


def tsne_map(latents: np.ndarray, seed: int = 0, perplexity: float = 30.0, n_iter: int = 750) -> np.ndarray:
    """openTSNE's FFT-interpolated t-SNE (Linderman et al. 2019): minutes for 58k points where exact or
    Barnes-Hut t-SNE takes far longer. Input reduced to 50 PCs first, as is standard for t-SNE."""
    from openTSNE import TSNE

    reduced = PCA(n_components=min(50, latents.shape[1], len(latents)), random_state=seed).fit_transform(latents)
    perplexity = min(perplexity, (len(latents) - 1) / 3)
    bar = tqdm(total=n_iter, desc="t-SNE", unit="it", leave=False)

    def progress(iteration, error, embedding):
        bar.update(10)

    tsne = TSNE(n_components=2, perplexity=perplexity, n_iter=n_iter - 250, early_exaggeration_iter=250,
                random_state=seed, n_jobs=-1, initialization="pca", callbacks=progress, callbacks_every_iters=10,
                neighbors="exact" if len(latents) < 1000 else "auto", verbose=False)
    embedding = np.asarray(tsne.fit(reduced), dtype=np.float32)
    bar.close()
    return embedding
