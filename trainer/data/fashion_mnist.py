"""Fashion-MNIST from its four official idx .gz files (Debian's dataset-fashion-mnist package)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from trainer.data.errors import DataSourceError

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
)
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path: Path) -> np.ndarray:
    """Parse an idx file (LeCun's MNIST format): magic, dimension sizes, then raw uint8 data."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
        zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
        if zero != 0 or dtype_code != 0x08:
            raise ValueError("not a uint8 idx file")
        shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    except (OSError, ValueError, struct.error, EOFError) as error:
        raise DataSourceError(f"cannot read Fashion-MNIST file {path}: {error}") from None


def load_fashion_mnist(directory: Path = DEFAULT_DIR) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{'train': (images (60000, 28, 28), labels), 'test': (images (10000, 28, 28), labels)}."""
    directory = Path(directory)
    missing = [name for pair in FILES.values() for name in pair if not (directory / name).is_file()]
    if missing:
        raise DataSourceError(
            f"Fashion-MNIST not found in {directory} (missing {', '.join(missing)}); "
            "install it with 'apt-get install dataset-fashion-mnist' or pass fashion-mnist:DIR"
        )
    out = {}
    for split, (images_name, labels_name) in FILES.items():
        images, labels = read_idx(directory / images_name), read_idx(directory / labels_name)
        if images.ndim != 3 or len(images) != len(labels):
            raise DataSourceError(f"Fashion-MNIST {split} files in {directory} disagree in length or shape")
        out[split] = (images, labels)
    return out
