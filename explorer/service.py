"""Every user operation of the explorer as one plain method, returning display-ready values.

Both front ends (Gradio ``app.py`` and ``explorer/streamlit_app.py``) call these and nothing else, so each
behaviour is written and tested once. Images are uint8 numpy arrays (H, W, C); errors a user can cause are
``ImageInputError`` / ``LatentInputError`` / ``CheckpointError`` with a one-line message.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from explorer.errors import CheckpointError, ImageInputError
from explorer.latents import apply_directions, check_latent, interpolate
from explorer.model import ExplorerModel, SliderDirection, discover_models
from explorer.render import grid
from explorer.uploads import read_upload_file

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "checkpoints"
ENV_VAR = "ANIME_EXPLORER_CHECKPOINTS"
TOP_SLIDERS, ATTRIBUTE_SLIDERS = 8, 8


@dataclass
class Reconstruction:
    original: np.ndarray  # (H, W, C) the upload as the model sees it
    reconstruction: np.ndarray
    latent: np.ndarray
    mse: float
    psnr: float


class Explorer:
    """The models under one folder (``$ANIME_EXPLORER_CHECKPOINTS`` or ``checkpoints/``), loaded on first use."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root or os.environ.get(ENV_VAR) or DEFAULT_ROOT)
        self._models: dict[str, ExplorerModel] = {}
        self._lock = threading.Lock()

    def model_names(self) -> list[str]:
        return [p.name for p in discover_models(self.root)]

    def model(self, name: str) -> ExplorerModel:
        if name not in self._models:
            with self._lock:
                if name not in self._models:
                    if name not in self.model_names():
                        raise CheckpointError(f"no model '{name}' in {self.root}")
                    self._models[name] = ExplorerModel(self.root / name)
        return self._models[name]

    # ── sliders ──────────────────────────────────────────────────────────────────────────────────────
    def sliders(self, name: str) -> list[SliderDirection]:
        """The slider set for a model: its top directions, then its named attribute directions."""
        model = self.model(name)
        return model.top_directions(TOP_SLIDERS) + model.attribute_directions(ATTRIBUTE_SLIDERS)

    def slider_latent(self, name: str, base: np.ndarray, offsets: list[float]) -> np.ndarray:
        directions = self.sliders(name)
        offsets = list(offsets)[: len(directions)]
        if not directions or not any(offsets):
            return base.astype(np.float32)
        used = directions[: len(offsets)]
        return apply_directions(base, np.stack([d.vector for d in used]), np.asarray(offsets, np.float32),
                                np.array([d.scale for d in used], np.float32))

    def face(self, name: str, base: np.ndarray, offsets: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """The face the sliders show, and its latent."""
        model = self.model(name)
        latent = self.slider_latent(name, check_latent(base, model.latent_dim), offsets)
        return model.decode(latent), latent

    def random_base(self, name: str, seed: int, temperature: float = 1.0) -> np.ndarray:
        if not 0 < temperature <= 2:
            raise ValueError("temperature must lie in (0, 2]")
        return self.model(name).random_latent(seed, temperature)

    # ── uploads ──────────────────────────────────────────────────────────────────────────────────────
    def reconstruct(self, name: str, path) -> Reconstruction:
        if path is None:
            raise ImageInputError("choose an image file first")
        model = self.model(name)
        image = read_upload_file(path, model.image_size, model.image_channels)
        latent = model.encode(image)
        recon = model.decode(latent)
        original = image.transpose(1, 2, 0)
        mse = float(((recon.astype(np.float64) - original) / 255.0).__pow__(2).mean())
        return Reconstruction(original, recon, latent, mse, 10 * np.log10(1 / max(mse, 1e-10)))

    # ── interpolation, samples, evolution ────────────────────────────────────────────────────────────
    def interpolation(self, name: str, start: np.ndarray, end: np.ndarray, frames: int, mode: str) -> np.ndarray:
        """(frames, H, W, C) faces from start to end."""
        model = self.model(name)
        if not 2 <= frames <= 64:
            raise ValueError("frames must be between 2 and 64")
        path = interpolate(check_latent(start, model.latent_dim), check_latent(end, model.latent_dim), frames, mode)
        return model.decode(path)

    def sample_grid(self, name: str, seed: int, count: int = 16, temperature: float = 1.0) -> np.ndarray:
        if not 1 <= count <= 64:
            raise ValueError("count must be between 1 and 64")
        model = self.model(name)
        latents = np.stack([model.random_latent(seed * 1000 + i, temperature) for i in range(count)])
        return grid(model.decode(latents), columns=int(np.ceil(np.sqrt(count))))

    def evolution(self, name: str) -> tuple[np.ndarray, list[int]] | None:
        """The shipped fixed-latent strip (one row per epoch) and the epoch of each row, if the model has it."""
        directory = self.model(name).directory
        strip, rows = directory / "evolution.png", directory / "evolution.json"
        if not strip.is_file() or not rows.is_file():
            return None
        meta = json.loads(rows.read_text())
        with Image.open(strip) as image:
            array = np.asarray(image.convert("RGB"))
        return array, meta["rows"]

    def evolution_row(self, name: str, epoch: int) -> np.ndarray:
        """The fixed-latent samples after ``epoch`` (the nearest recorded one)."""
        found = self.evolution(name)
        if found is None:
            raise CheckpointError(f"{name} ships no evolution strip")
        strip, epochs = found
        row = int(np.argmin([abs(e - epoch) for e in epochs]))
        pitch = (strip.shape[0] - 2) // len(epochs)
        return strip[row * pitch : row * pitch + pitch + 2]

    def summary(self, name: str) -> str:
        """Markdown for the model page: what it is and its figures."""
        model = self.model(name)
        metrics = model.metrics
        lines = [f"**{name}** · {'VAE' if model.is_vae else 'DCGAN'} · latent {model.latent_dim} · "
                 f"{model.image_size}×{model.image_size} · {metrics.get('epochs', '?')} epochs · "
                 f"{len(model.atlas):,} encoded images"]
        figures = metrics.get("test", {})
        if figures:
            lines.append(" · ".join(f"{k.removeprefix('test_').replace('_', ' ')} {v:.4g}"
                                    for k, v in figures.items() if isinstance(v, (int, float))))
        return "\n\n".join(lines)
