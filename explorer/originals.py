"""Original dataset images for map points, when the user points the app at a local copy of the data.

The project ships no dataset images: an atlas row only names its image (``<source>/<file stem>``,
``fashion-mnist/<split>/<n>`` or ``synthetic/<n>``). Given the folders, zips, Fashion-MNIST directory or
synthetic set the atlas was embedded from (``--data`` / ``$ANIME_EXPLORER_DATA``), the map shows the original beside the model's decoding.
Sources are read in place and indexed on first use; a name the data does not hold simply has no original.
"""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from explorer.errors import ExplorerInputError
from trainer.data import fashion_mnist
from trainer.data.synthetic import draw_face
from trainer.models.preprocess import to_model_array

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}
ENV_VAR = "ANIME_EXPLORER_DATA"


class DataPathError(ExplorerInputError):
    """A --data path that cannot be a local copy of the dataset."""


class LocalOriginals:
    def __init__(self, specs: list[str | Path]):
        self.sources: dict[str, tuple[str, Path]] = {}
        for spec in specs:
            text = str(spec)
            if text.split(":")[0] == "synthetic" and not Path(text).exists():
                self.sources["synthetic"] = ("synthetic", Path())  # drawn again from (seed 0, index)
                continue
            if text.startswith("fashion-mnist"):
                folder = Path(text.partition(":")[2] or fashion_mnist.DEFAULT_DIR).expanduser()
                if not folder.is_dir():
                    raise DataPathError(f"--data {text}: no Fashion-MNIST folder at {folder}")
                self.sources["fashion-mnist"] = ("fashion-mnist", folder)
                continue
            path = Path(text).expanduser()
            if path.is_dir():
                self.sources[path.name] = ("folder", path)
            elif path.is_file() and zipfile.is_zipfile(path):
                self.sources[path.stem] = ("zip", path)
            else:
                raise DataPathError(f"--data {text}: not a folder, a .zip of images, fashion-mnist[:DIR] or synthetic")
        self._members: dict[str, dict[str, str]] = {}
        self._archives: dict[str, zipfile.ZipFile] = {}
        self._fashion: dict | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.sources)

    def _index(self, source: str) -> dict[str, str]:
        """File stem → member name (zip) or relative path (folder), built once per source."""
        with self._lock:
            if source not in self._members:
                kind, path = self.sources[source]
                names = (zipfile.ZipFile(path).namelist() if kind == "zip"
                         else [str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()])
                self._members[source] = {Path(n).stem: n for n in sorted(names)
                                         if Path(n).suffix.lower() in IMAGE_SUFFIXES}
            return self._members[source]

    def _read(self, image_id: str, size: int) -> Image.Image | None:
        source, _, rest = image_id.partition("/")
        if source not in self.sources:
            return None
        kind, path = self.sources[source]
        if kind == "synthetic":  # face i depends only on (seed, i), drawn at the model's size as embedded
            return draw_face(size, np.random.default_rng([0, int(rest)]))[0] if rest.isdigit() else None
        if kind == "fashion-mnist":
            split, _, number = rest.partition("/")
            with self._lock:
                self._fashion = self._fashion or fashion_mnist.load_fashion_mnist(path)
            images = self._fashion.get(split, (np.zeros((0, 28, 28)),))[0]
            return Image.fromarray(images[int(number)]) if number.isdigit() and int(number) < len(images) else None
        member = self._index(source).get(rest)
        if member is None:
            return None
        if kind == "zip":
            with self._lock:  # one open archive per source; zip handles are not thread-safe
                if source not in self._archives:
                    self._archives[source] = zipfile.ZipFile(path)
                return Image.open(io.BytesIO(self._archives[source].read(member)))
        return Image.open(path / member)

    def original(self, image_id: str, size: int, channels: int) -> np.ndarray | None:
        """The original as the model saw it, (size, size, channels) uint8; None when not in the local data."""
        try:
            image = self._read(str(image_id), size)
            if image is None:
                return None
            array = to_model_array(image, size, channels)
        except (OSError, ValueError, zipfile.BadZipFile, Image.DecompressionBombError):
            return None
        return array.transpose(1, 2, 0)
