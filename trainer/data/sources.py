"""Image sources named on the command line, each read in place into uint8 model-sized arrays.

A spec is one of:
  path/to/folder        images anywhere below it (+ tags.csv beside them)
  path/to/archive.zip   images inside, read without extraction (+ tags.csv inside)
  synthetic[:COUNT]     faces drawn by code with known factors (default 2000)
  fashion-mnist[:DIR]   the four idx .gz files (default /usr/share/datasets/fashion-mnist)
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from trainer.data import fashion_mnist, synthetic
from trainer.data.errors import DataSourceError
from trainer.models.preprocess import to_model_array

log = logging.getLogger("trainer.data")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
TAG_PATTERN = re.compile(r"^\s*(?P<hair>.+?) hair (?P<eyes>.+?) eyes\s*$")
DECODE_CHUNK = 2048


@dataclass
class SourceImages:
    """What one source contributed: arrays plus per-image id, tags, split hint and known factors."""

    name: str
    spec: str
    images: np.ndarray  # (N, C, H, W) uint8
    ids: list[str]
    tags: dict[str, list[str | None]] = field(default_factory=dict)
    fixed_split: np.ndarray | None = None  # bool is_test, for sources with an official split
    factors: np.ndarray | None = None  # (N, F) float32 for synthetic faces
    skipped: int = 0


def parse_tags_csv(text: str) -> dict[str, dict[str, str]]:
    """``<id>,<hair> hair <eye> eyes`` rows (no header) → {id: {"hair": ..., "eyes": ...}}."""
    tags = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 2 and (match := TAG_PATTERN.match(row[1])):
            tags[row[0].strip()] = {"hair": match["hair"], "eyes": match["eyes"]}
    return tags


def _decode_one(data: bytes, size: int, channels: int) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return to_model_array(image, size, channels)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError):
        return None


def decode_all(
    names: list[str], read: Callable[[str], bytes], size: int, channels: int
) -> tuple[np.ndarray, list[int], list[str]]:
    """Decode files with a thread pool (PIL releases the GIL); returns arrays, kept indices, bad names."""
    arrays, kept, bad = [], [], []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, len(names), DECODE_CHUNK):
            chunk = names[start : start + DECODE_CHUNK]
            blobs = [read(name) for name in chunk]  # sequential: zip handles are not thread-safe
            for offset, array in enumerate(pool.map(lambda b: _decode_one(b, size, channels), blobs)):
                if array is None:
                    bad.append(chunk[offset])
                else:
                    arrays.append(array)
                    kept.append(start + offset)
    stacked = np.stack(arrays) if arrays else np.zeros((0, channels, size, size), np.uint8)
    return stacked, kept, bad


def _image_files(names: Iterator[str]) -> list[str]:
    return sorted(n for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES and not Path(n).name.startswith("."))


def _from_files(name: str, spec: str, files: list[str], read: Callable[[str], bytes],
                tags_text: str | None, size: int, channels: int, limit: int | None) -> SourceImages:
    if not files:
        raise DataSourceError(f"no images found in {spec}")
    files = files[:limit] if limit else files
    images, kept, bad = decode_all(files, read, size, channels)
    if bad:
        log.warning("skipped %d unreadable image(s) in %s (e.g. %s)", len(bad), spec, bad[0])
    if not kept:
        raise DataSourceError(f"none of the {len(files)} images in {spec} could be read")
    stems = [Path(files[i]).stem for i in kept]
    result = SourceImages(name, spec, images, [f"{name}/{s}" for s in stems], skipped=len(bad))
    if tags_text is not None:
        table = parse_tags_csv(tags_text)
        result.tags = {key: [table.get(s, {}).get(key) for s in stems] for key in ("hair", "eyes")}
    return result


def read_folder(path: Path, size: int, channels: int, limit: int | None = None) -> SourceImages:
    files = _image_files(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    tags_files = sorted(path.rglob("tags.csv"))
    tags_text = tags_files[0].read_text(encoding="utf-8", errors="replace") if tags_files else None
    return _from_files(path.name, str(path), files, lambda n: (path / n).read_bytes(),
                       tags_text, size, channels, limit)


def read_zip(path: Path, size: int, channels: int, limit: int | None = None) -> SourceImages:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise DataSourceError(f"cannot open {path} as a zip archive: {error}") from None
    with archive:
        names = archive.namelist()
        tags_names = sorted(n for n in names if Path(n).name == "tags.csv")
        tags_text = archive.read(tags_names[0]).decode("utf-8", "replace") if tags_names else None

        def read(member: str) -> bytes:
            try:
                return archive.read(member)
            except (zipfile.BadZipFile, OSError, ValueError):
                return b""  # decoded as unreadable and counted with the skipped images

        return _from_files(path.stem, str(path), _image_files(iter(names)), read, tags_text, size, channels, limit)


def read_synthetic(count: int, size: int, channels: int, seed: int = 0) -> SourceImages:
    arrays, factors, tags = [], [], {"hair": [], "eyes": []}
    for _, image, face_factors, face_tags in synthetic.synthetic_faces(count, size, seed):
        arrays.append(to_model_array(image, size, channels))
        factors.append(face_factors)
        for key in tags:
            tags[key].append(face_tags[key])
    return SourceImages(
        "synthetic", f"synthetic:{count}", np.stack(arrays), [f"synthetic/{i:06d}" for i in range(count)],
        tags=tags, factors=np.stack(factors),
    )


def read_fashion_mnist(directory: Path, size: int, channels: int, limit: int | None = None) -> SourceImages:
    splits = fashion_mnist.load_fashion_mnist(directory)
    arrays, ids, classes, is_test = [], [], [], []
    for split, (images, labels) in splits.items():
        images, labels = (images[:limit], labels[:limit]) if limit else (images, labels)
        for i, (image, label) in enumerate(zip(images, labels)):
            arrays.append(to_model_array(Image.fromarray(image), size, channels))
            ids.append(f"fashion-mnist/{split}/{i}")
            classes.append(fashion_mnist.CLASS_NAMES[int(label)])
            is_test.append(split == "test")
    return SourceImages("fashion-mnist", f"fashion-mnist:{directory}", np.stack(arrays), ids,
                        tags={"class": classes}, fixed_split=np.array(is_test))


def read_source(spec: str, size: int, channels: int, limit: int | None = None, seed: int = 0) -> SourceImages:
    """Dispatch one command-line spec to its reader."""
    kind, _, argument = spec.partition(":")
    if kind == "synthetic" and not Path(spec).exists():
        try:
            count = int(argument) if argument else 2000
        except ValueError:
            raise DataSourceError(f"synthetic:COUNT needs a whole number, got '{argument}'") from None
        if count < 1:
            raise DataSourceError("synthetic:COUNT must be at least 1")
        return read_synthetic(min(count, limit) if limit else count, size, channels, seed)
    if kind == "fashion-mnist" and not Path(spec).exists():
        return read_fashion_mnist(Path(argument) if argument else fashion_mnist.DEFAULT_DIR, size, channels, limit)
    path = Path(spec).expanduser()
    if path.is_dir():
        return read_folder(path, size, channels, limit)
    if path.is_file() and path.suffix.lower() == ".zip":
        return read_zip(path, size, channels, limit)
    if path.exists():
        raise DataSourceError(f"{spec} is neither a folder nor a .zip of images")
    raise DataSourceError(f"data source not found: {spec}")


def native_sizes(spec: str, limit: int = 200) -> list[int]:
    """The shorter side, in pixels, of up to ``limit`` of a folder's or zip's images as stored (headers only,
    evenly spread over the files); Fashion-MNIST's 28; none for synthetic faces, which are drawn at any size."""
    kind, _, _ = spec.partition(":")
    path = Path(spec).expanduser()
    if kind == "fashion-mnist" and not path.exists():
        return [28]
    if path.is_dir():
        files = _image_files(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
        opener = lambda name: open(path / name, "rb")  # noqa: E731
    elif path.is_file() and path.suffix.lower() == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            return []  # reading the source reports it
        files, opener = _image_files(iter(archive.namelist())), archive.open
    else:
        return []
    sides = []
    for name in files[:: max(1, len(files) // limit)][:limit]:
        try:
            with opener(name) as handle, Image.open(handle) as image:
                sides.append(min(image.size))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError, zipfile.BadZipFile):
            continue
    return sides
