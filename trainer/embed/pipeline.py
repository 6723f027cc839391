"""``python -m trainer embed``: encode every image → 2-D maps → clusters → directions → the atlas."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from trainer.data import load_image_data
from trainer.data.synthetic import FACTOR_NAMES
from trainer.embed import clusters, directions, maps
from trainer.embed.encode import encode_images, kl_per_dimension
from trainer.models import INVERSION_DIR, ConvVAE, InversionEncoder, load_model, read_checkpoint_config
from trainer.models.atlas import ATLAS_FORMAT_VERSION, MAP_NAMES, TAG_KEYS, Atlas, AtlasError
from trainer.models.checkpoint import WEIGHTS_NAME, sha256_of_file
from trainer.runtime import start_runtime

log = logging.getLogger("trainer")
MAP_FUNCTIONS = {"umap": maps.umap_map, "tsne": maps.tsne_map, "pca": maps.pca_map}


@contextmanager
def stage(name: str, timings: dict):
    log.info("%s …", name)
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 2)
    log.info("%s done in %.1f s", name, timings[name])


def latent_encoder(model, checkpoint: Path):
    """The module that maps images in [0, 1] to (mu, logvar): the VAE's own encoder, or for a DCGAN the
    inversion encoder trained by ``python -m trainer invert`` and stored in its ``inversion/`` folder."""
    if isinstance(model, ConvVAE):
        return model
    if not (checkpoint / INVERSION_DIR / "config.json").is_file():
        raise AtlasError(f"{checkpoint} holds a DCGAN without an inversion encoder: run "
                         f"'python -m trainer invert --checkpoint {checkpoint} --data …' first")
    return InversionEncoder.from_pretrained(checkpoint / INVERSION_DIR)


def run_embed(checkpoint: Path, specs: list[str], *, device: str = "auto", precision: str = "auto",
              cluster_count: int = 16, map_names: tuple[str, ...] = MAP_NAMES, seed: int = 0,
              max_images: int | None = None, cache_dir: Path | None = None, min_tag_count: int = 50) -> Atlas:
    checkpoint = Path(checkpoint)
    meta = read_checkpoint_config(checkpoint)
    unknown = sorted(set(map_names) - set(MAP_FUNCTIONS))
    if unknown or not map_names:
        raise ValueError(f"unknown map(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(MAP_NAMES)}")
    model = load_model(checkpoint)
    runtime = start_runtime(device, precision, channels_last=True)
    model = model.to(runtime.device)
    encoder = latent_encoder(model, checkpoint).to(runtime.device)
    config = model.config
    test_fraction = meta.get("training", {}).get("train_config", {}).get("test_fraction", 0.2)
    timings: dict[str, float] = {}

    with stage("load data", timings):
        data = load_image_data(specs, config.image_size, config.image_channels, test_fraction=test_fraction,
                               max_images=max_images, cache_dir=cache_dir, seed=seed)
    with stage("encode", timings):
        mu, logvar = encode_images(encoder.encode, data.images.to(runtime.device), runtime)
    coordinates = {}
    for name in map_names:
        with stage(name, timings):
            coordinates[name] = MAP_FUNCTIONS[name](mu, seed=seed)
    with stage("clusters", timings):
        labels, centres = clusters.kmeans_clusters(mu, cluster_count, seed)
    tags = {k: np.array([v or "" for v in data.tags[k]]) for k in TAG_KEYS if k in data.tags}
    with stage("directions", timings):
        found = directions.tag_directions(mu, tags, data.is_test, min_tag_count)
        if data.factors is not None:
            found += directions.factor_directions(mu, data.factors, FACTOR_NAMES, data.is_test)
        components, explained = directions.principal_directions(mu, seed=seed)

    dim = mu.shape[1]
    atlas = Atlas(
        ids=np.array(data.ids), source=np.array(data.source), is_test=data.is_test.astype(bool), tags=tags,
        mu=mu.astype(np.float16), maps=coordinates, cluster=labels, cluster_centres=centres,
        # A GAN's codes are point estimates: no posterior, so no per-dimension KL (zeros, as documented).
        kl_per_dim=kl_per_dimension(mu, logvar) if isinstance(model, ConvVAE) else np.zeros(mu.shape[1], np.float32), mu_mean=mu.mean(0).astype(np.float32),
        mu_std=mu.std(0).astype(np.float32),
        direction_names=np.array([d.name for d in found], dtype=str),
        direction_vectors=np.stack([d.vector for d in found]) if found else np.zeros((0, dim), np.float32),
        direction_scores=np.array([d.score for d in found], dtype=np.float32),
        direction_counts=np.array([d.count for d in found], dtype=np.int32),
        pca_components=components, pca_explained=explained,
    )
    atlas.manifest = {
        "format_version": ATLAS_FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checkpoint": {"model_type": meta["model_type"], "weights_sha256": sha256_of_file(checkpoint / WEIGHTS_NAME),
                       **({"inversion_sha256": sha256_of_file(checkpoint / INVERSION_DIR / WEIGHTS_NAME)}
                          if encoder is not model else {})},
        "data": {"sources": data.provenance, "images": len(data), "test_images": int(data.is_test.sum()),
                 "test_fraction": test_fraction},
        "maps": {"umap": "umap-learn, n_neighbors 15, min_dist 0.1", "tsne": "openTSNE FFT, perplexity 30, on 50 PCs",
                 "pca": "scikit-learn PCA"},
        "clusters": {"method": "k-means", "count": int(len(centres)),
                     "why": "every face gets a label, deterministic, centres decode to prototype faces"},
        "directions": [{"name": d.name, "score": round(d.score, 4), "count": d.count, "method": d.method}
                       for d in found],
        "latent_dim": int(dim), "seed": seed, "device": str(runtime.device), "timings_s": timings,
    }
    atlas.save(checkpoint)
    log.info("atlas of %d images written to %s (%s)", len(data), checkpoint,
             ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return atlas
