"""The decoded dataset: one uint8 tensor of every image, its ids, tags and a stable train/test split."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from trainer.atomic import atomic_write, atomic_write_json
from trainer.data.errors import DataSourceError
from trainer.data.sources import SourceImages, read_source

log = logging.getLogger("trainer.data")
CACHE_VERSION = 1


def is_test_id(image_id: str, test_fraction: float = 0.2) -> bool:
    """Stable split: the first 8 bytes of sha1(id) as a fraction of 2⁶⁴; same answer on any machine."""
    value = int.from_bytes(hashlib.sha1(image_id.encode("utf-8")).digest()[:8], "big")
    return value / 2**64 < test_fraction


@dataclass
class ImageData:
    images: torch.Tensor  # (N, C, H, W) uint8, decoded once
    ids: list[str]
    source: list[str]  # source name per image
    is_test: np.ndarray  # (N,) bool
    tags: dict[str, list[str | None]] = field(default_factory=dict)
    factors: np.ndarray | None = None  # (N, F) synthetic ground truth, else None
    provenance: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def split_indices(self, split: str) -> torch.Tensor:
        mask = self.is_test if split == "test" else ~self.is_test
        return torch.from_numpy(np.flatnonzero(mask))

    def mean_image(self, split: str = "train") -> torch.Tensor:
        """Per-pixel mean in [0, 1], (C, H, W): the trivial predictor a model must beat."""
        return self.images[self.split_indices(split)].float().mean(0) / 255.0


def combine(parts: list[SourceImages], test_fraction: float) -> ImageData:
    ids = [i for p in parts for i in p.ids]
    if len(set(ids)) != len(ids):
        raise DataSourceError("two sources give images the same id (the same source named twice?)")
    is_test = np.concatenate([
        p.fixed_split if p.fixed_split is not None else np.array([is_test_id(i, test_fraction) for i in p.ids])
        for p in parts
    ])
    keys = sorted({k for p in parts for k in p.tags})
    tags = {k: [v for p in parts for v in p.tags.get(k, [None] * len(p.ids))] for k in keys}
    factors = np.concatenate([p.factors for p in parts]) if all(p.factors is not None for p in parts) else None
    provenance = [
        {"spec": p.spec, "name": p.name, "images": len(p.ids), "skipped": p.skipped,
         "split": "the source's official train/test split" if p.fixed_split is not None
         else f"sha1(id): {test_fraction:.0%} test"} for p in parts
    ]
    return ImageData(
        images=torch.from_numpy(np.concatenate([p.images for p in parts])),
        ids=ids, source=[p.name for p in parts for _ in p.ids], is_test=is_test, tags=tags,
        factors=factors, provenance=provenance,
    )


def source_fingerprint(spec: str) -> str | None:
    """Identity of a file/folder source by path, size and mtime (None: not worth caching)."""
    path = Path(spec).expanduser()
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    if path.is_dir():
        entries = sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in path.rglob("*") if p.is_file())
        return f"{path.resolve()}:" + hashlib.sha1(repr(entries).encode()).hexdigest()
    return None


def load_image_data(
    specs: list[str], image_size: int, channels: int, *, test_fraction: float = 0.2,
    max_images: int | None = None, cache_dir: Path | None = None, seed: int = 0,
) -> ImageData:
    """Read every source once into memory (from the uint8 disk cache when the source is unchanged)."""
    if not specs:
        raise DataSourceError("no data source given (use --data PATH, --data synthetic or --data fashion-mnist)")
    if not 0 < test_fraction < 1:
        raise DataSourceError(f"test fraction must lie strictly between 0 and 1, got {test_fraction}")
    parts = []
    for spec in specs:
        limit = max_images - sum(len(p.ids) for p in parts) if max_images else None
        if limit is not None and limit <= 0:
            break
        parts.append(_cached_source(spec, image_size, channels, limit, seed, cache_dir))
    return combine(parts, test_fraction)


def _cached_source(spec, size, channels, limit, seed, cache_dir) -> SourceImages:
    fingerprint = source_fingerprint(spec) if cache_dir else None
    if fingerprint is None:
        return read_source(spec, size, channels, limit, seed)
    key = hashlib.sha1(json.dumps([CACHE_VERSION, fingerprint, size, channels, limit]).encode()).hexdigest()[:16]
    array_path, meta_path = Path(cache_dir) / f"{key}.npy", Path(cache_dir) / f"{key}.json"
    if array_path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
            images = np.load(array_path, mmap_mode="r")
            if images.shape[0] == len(meta["ids"]):
                return SourceImages(meta["name"], spec, np.ascontiguousarray(images), meta["ids"],
                                    tags=meta["tags"], skipped=meta["skipped"])
        except (OSError, ValueError, KeyError):
            log.warning("ignoring unreadable data cache %s", array_path)
    part = read_source(spec, size, channels, limit, seed)
    atomic_write(array_path, lambda tmp: np.save(open(tmp, "wb"), part.images))
    atomic_write_json(meta_path, {"name": part.name, "ids": part.ids, "tags": part.tags, "skipped": part.skipped})
    return part
