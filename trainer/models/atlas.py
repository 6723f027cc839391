"""The latent atlas stored beside a checkpoint: ``atlas.npz`` (arrays, loaded without pickle) and
``atlas.json`` (the manifest: which weights and data it came from, how each part was made, timings).

It is part of the checkpoint contract, read by the explorer, so it lives with the model format. An atlas
whose manifest names other weights than the folder holds is stale and is refused with ``AtlasError``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer.atomic import atomic_write, atomic_write_json
from trainer.models.checkpoint import WEIGHTS_NAME, CheckpointError, read_checkpoint_config, sha256_of_file
from trainer.models.inversion import INVERSION_DIR

ATLAS_NAME, MANIFEST_NAME = "atlas.npz", "atlas.json"
ATLAS_FORMAT_VERSION = 1
MAP_NAMES = ("umap", "tsne", "pca")
TAG_KEYS = ("hair", "eyes", "class")


class AtlasError(CheckpointError):
    """The atlas is missing, unreadable, or stale (made from other weights than the folder holds)."""


@dataclass
class Atlas:
    ids: np.ndarray  # (N,) str
    source: np.ndarray  # (N,) str
    is_test: np.ndarray  # (N,) bool
    tags: dict[str, np.ndarray]  # key → (N,) str, "" where unknown
    mu: np.ndarray  # (N, D) float16
    maps: dict[str, np.ndarray]  # "umap" | "tsne" | "pca" → (N, 2) float32
    cluster: np.ndarray  # (N,) int16
    cluster_centres: np.ndarray  # (K, D) float32
    kl_per_dim: np.ndarray  # (D,) mean KL of each latent dimension over the data (VAE; zeros for a GAN)
    mu_mean: np.ndarray  # (D,)
    mu_std: np.ndarray  # (D,)
    direction_names: np.ndarray  # (M,) str, e.g. "hair: blonde"
    direction_vectors: np.ndarray  # (M, D) float32, unit length
    direction_scores: np.ndarray  # (M,) float32, held-out separation (AUC or R²)
    direction_counts: np.ndarray  # (M,) int32 examples behind each direction
    pca_components: np.ndarray  # (P, D) float32 principal directions of the encoded data (GANSpace-style)
    pca_explained: np.ndarray  # (P,) explained-variance ratio
    manifest: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        arrays.update({f"tag_{k}": v for k, v in self.tags.items()})
        arrays.update({f"map_{k}": v for k, v in self.maps.items()})
        return arrays

    def save(self, directory: Path) -> None:
        """Write atlas.npz then atlas.json (the manifest last: it vouches for the arrays beside it)."""
        directory = Path(directory)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.to_arrays())
        atomic_write(directory / ATLAS_NAME, lambda tmp: tmp.write_bytes(buffer.getvalue()))
        atomic_write_json(directory / MANIFEST_NAME, self.manifest)


def load_atlas(directory: Path, *, check_fresh: bool = True) -> Atlas:
    """Read a checkpoint folder's atlas; refuse a stale one (weights changed after embedding)."""
    directory = Path(directory)
    manifest_path, atlas_path = directory / MANIFEST_NAME, directory / ATLAS_NAME
    if not manifest_path.is_file() or not atlas_path.is_file():
        raise AtlasError(f"{directory} has no atlas: run 'python -m trainer embed --checkpoint {directory} --data …'")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        with np.load(atlas_path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, json.JSONDecodeError) as error:
        raise AtlasError(f"cannot read the atlas in {directory}: {error}") from None
    if check_fresh:
        check_atlas_fresh(directory, manifest)
    try:
        atlas = Atlas(
            tags={k[4:]: arrays.pop(k) for k in list(arrays) if k.startswith("tag_")},
            maps={k[4:]: arrays.pop(k) for k in list(arrays) if k.startswith("map_")},
            manifest=manifest, **arrays,
        )
    except TypeError as error:
        raise AtlasError(f"the atlas in {directory} lacks fields or has unknown ones: {error}") from None
    if any(len(v) != len(atlas.ids) for v in (atlas.mu, atlas.is_test, atlas.cluster, *atlas.maps.values())):
        raise AtlasError(f"the atlas in {directory} has per-image arrays of different lengths")
    return atlas


def check_atlas_fresh(directory: Path, manifest: dict) -> None:
    meta = read_checkpoint_config(directory)
    made_from = manifest.get("checkpoint", {}).get("weights_sha256")
    actual = sha256_of_file(directory / WEIGHTS_NAME)
    inversion = manifest.get("checkpoint", {}).get("inversion_sha256")
    inversion_path = directory / INVERSION_DIR / WEIGHTS_NAME
    if inversion and (not inversion_path.is_file() or sha256_of_file(inversion_path) != inversion):
        raise AtlasError(f"stale atlas in {directory}: its inversion encoder changed after embedding; "
                         f"run 'python -m trainer embed --checkpoint {directory} --data …' again")
    if made_from != actual or meta.get("weights_sha256") not in (None, actual):
        raise AtlasError(
            f"stale atlas in {directory}: it was made from weights {str(made_from)[:12]}…, the folder holds "
            f"{actual[:12]}…; run 'python -m trainer embed --checkpoint {directory} --data …' again"
        )
