"""Every user operation of the explorer as one plain method, returning data: images, latents and figures.

Both front ends (``webui.gradio_app`` and ``webui/streamlit_app.py``) call these and nothing else, so each
behaviour is written and tested once; how a figure is worded is theirs (``webui.wording``). Images are uint8
numpy arrays (H, W, C); every error a user can cause is an ``ExplorerInputError`` with a one-line message
(anything else is a bug).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from explorer.errors import CheckpointError, ImageInputError, RequestError
from explorer.glossary import PRIOR_LABELS
from explorer.latents import SLIDER_SPAN, apply_directions, check_latent, interpolate
from explorer.map_colours import UNTAGGED_LABEL, category_colours
from explorer.model import ExplorerModel, SliderDirection, discover_models, folder_fingerprint
from explorer.model_labels import model_labels, read_catalog, read_welcome
from explorer.model_summary import ModelSummary, model_summary
from explorer.originals import ENV_VAR as DATA_ENV_VAR, DataPathError, LocalOriginals
from explorer.render import labelled_grid
from explorer.uploads import read_upload, read_upload_file
from trainer.models.latent_prior import valid_temperature
from trainer.models.records import evaluated, results_rows

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "checkpoints"
ENV_VAR = "ANIME_EXPLORER_CHECKPOINTS"
TOP_SLIDERS, ATTRIBUTE_SLIDERS = 8, 8


def _read_json(path: Path) -> dict:
    """A checkpoint's JSON file, or {} where it is missing or unreadable (loading the model reports why)."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


@dataclass
class Reconstruction:
    original: np.ndarray  # (H, W, C) the upload as the model sees it
    reconstruction: np.ndarray
    latent: np.ndarray
    mse: float
    psnr: float


class Explorer:
    """The models under one folder (``$ANIME_EXPLORER_CHECKPOINTS`` or ``checkpoints/``), loaded on first use."""

    def __init__(self, root: Path | str | None = None, data: list[str] | None = None):
        """``data``: a local copy of the dataset (folders, zips, fashion-mnist[:DIR]; default
        ``$ANIME_EXPLORER_DATA``, paths separated by ``os.pathsep``) to show originals beside decodings."""
        self.root = Path(root or os.environ.get(ENV_VAR) or DEFAULT_ROOT)
        if data is None:  # from the environment: a wrong path is reported, not fatal to serving
            data = [p for p in os.environ.get(DATA_ENV_VAR, "").split(os.pathsep) if p]
            try:
                self.originals = LocalOriginals(data)
            except DataPathError as error:
                print(f"warning: ${DATA_ENV_VAR} ignored: {error}", file=sys.stderr)
                self.originals = LocalOriginals([])
        else:
            self.originals = LocalOriginals(data)
        self._models: dict[str, ExplorerModel] = {}
        self._sliders: dict[str, tuple[list[SliderDirection], np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def model_names(self) -> list[str]:
        return [p.name for p in discover_models(self.root)]

    def model_choices(self) -> list[tuple[str, str]]:
        """(label, name) per model for a picker: the catalog's models in its order (the first is the one to
        open on), then any other folder by name; each label says what the model is and carries its FID."""
        catalog = read_catalog(self.root)
        folders = sorted(discover_models(self.root), key=lambda p: (list(catalog).index(p.name) if p.name in catalog
                                                                     else len(catalog), p.name))
        labels = model_labels({p.name: (_read_json(p / "config.json"), _read_json(p / "metrics.json"))
                               for p in folders}, catalog)
        return [(labels[p.name], p.name) for p in folders]

    def refresh(self) -> tuple[list[tuple[str, str]], list[str]]:
        """Look at the folder again: a model folder built since appears in the returned choices, and a loaded
        model whose folder was rebuilt, changed or removed is forgotten (the next use loads it afresh).
        Returns (the picker's choices, the names forgotten)."""
        forgotten = []
        with self._lock:
            for name, model in list(self._models.items()):
                gone = not (model.directory / "config.json").is_file()
                if gone or folder_fingerprint(model.directory) != model.fingerprint:
                    del self._models[name]
                    self._sliders.pop(name, None)
                    forgotten.append(name)
        return self.model_choices(), forgotten

    def welcome(self) -> str:
        """The sentence under the model picker: what the models are and what to try first."""
        return read_welcome(self.root)

    def model(self, name: str) -> ExplorerModel:
        if name not in self._models:
            with self._lock:
                if name not in self._models:
                    if name not in self.model_names():
                        raise CheckpointError(f"no model '{name}' in {self.root}")
                    self._models[name] = ExplorerModel(self.root / name)  # a broken folder: CheckpointError
        return self._models[name]

    # ── sliders ──────────────────────────────────────────────────────────────────────────────────────
    def sliders(self, name: str) -> list[SliderDirection]:
        """The slider set for a model: its top directions, then its named attribute directions."""
        return self._slider_set(name)[0]

    def _slider_set(self, name: str):
        """Computed once per model (the spreads project the whole atlas): directions, their stacked
        vectors and scales, ready for the hot path of a slider drag."""
        if name not in self._sliders:
            model = self.model(name)
            directions = model.top_directions(TOP_SLIDERS) + model.attribute_directions(ATTRIBUTE_SLIDERS)
            vectors = (np.stack([d.vector for d in directions]) if directions
                       else np.zeros((0, model.latent_dim), np.float32))
            self._sliders[name] = (directions, vectors, np.array([d.scale for d in directions], np.float32))
        return self._sliders[name]

    def slider_latent(self, name: str, base, offsets: list[float]) -> np.ndarray:
        """``base`` (checked: it may come from a request) moved by the slider ``offsets``."""
        base = check_latent(base, self.model(name).latent_dim)
        directions, vectors, scales = self._slider_set(name)
        offsets = np.asarray(list(offsets)[: len(directions)], np.float32)
        if not offsets.any():
            return base.copy()  # never the caller's own array
        used = len(offsets)
        return apply_directions(base, vectors[:used], offsets, scales[:used])

    def face(self, name: str, base: np.ndarray, offsets: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """The face the sliders show, and its latent."""
        latent = self.slider_latent(name, base, offsets)
        return self.model(name).decode(latent), latent

    def traversal(self, name: str, base: np.ndarray, offsets: list[float] = (), steps: int = 7
                  ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Seed 003's disentanglement view from the current face: each slider in turn swept from −3σ to +3σ
        while the others stay where they are. Returns the faces (directions · steps, H, W, C) row by row,
        the row names and the column positions in σ."""
        if not 3 <= int(steps) <= 15:
            raise RequestError("a traversal has 3 to 15 steps")
        model = self.model(name)
        base = check_latent(base, model.latent_dim)
        directions, vectors, scales = self._slider_set(name)
        if not directions:
            raise RequestError(f"{name} has no slider directions to traverse")
        current = np.zeros(len(directions), np.float32)
        given = np.asarray(list(offsets)[: len(directions)], np.float32)
        current[: len(given)] = given
        positions = np.linspace(-SLIDER_SPAN, SLIDER_SPAN, int(steps), dtype=np.float32)
        # One row of offsets per face: the current ones, with slider k replaced by each position in turn.
        grid_offsets = np.repeat(current[None], len(directions) * len(positions), axis=0)
        rows = np.repeat(np.arange(len(directions)), len(positions))
        grid_offsets[np.arange(len(rows)), rows] = np.tile(positions, len(directions))
        latents = apply_directions(base, vectors, grid_offsets, scales)  # every face in one decode
        return model.decode(latents), [d.name for d in directions], positions

    def traversal_image(self, name: str, base: np.ndarray, offsets: list[float] = (), steps: int = 7) -> np.ndarray:
        """The traversal as one labelled figure: a row per slider, a column per position (in σ)."""
        faces, names, positions = self.traversal(name, base, offsets, steps)
        columns = ["0 sd" if abs(p) < 1e-6 else f"{p:+.3g} sd" for p in positions]  # the bundled font has no σ
        return labelled_grid(faces, names, columns, upscale=max(1, 64 // faces.shape[1]))

    def random_base(self, name: str, seed: int, temperature: float = 1.0, prior: str | None = None) -> np.ndarray:
        """The random face of ``seed``: z from ``prior`` (default: the model's own, see ``default_prior``)."""
        return self.model(name).random_latent(seed, temperature, self._prior(name, temperature, prior))

    # ── uploads ──────────────────────────────────────────────────────────────────────────────────────
    def reconstruct(self, name: str, upload: bytes | str | Path | None) -> Reconstruction:
        """An uploaded file (its bytes, or a path to it) → its latent and reconstruction."""
        if upload is None:
            raise ImageInputError("choose an image file first")
        model = self.model(name)
        image = (read_upload(upload, model.image_size, model.image_channels) if isinstance(upload, bytes)
                 else read_upload_file(upload, model.image_size, model.image_channels))
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
            raise RequestError("frames must be between 2 and 64")
        path = interpolate(check_latent(start, model.latent_dim), check_latent(end, model.latent_dim), frames, mode)
        return model.decode(path)

    def priors(self, name: str) -> list[str]:
        """What this model's samples can be drawn from: "normal" (N(0, I)), and "fitted" for a VAE whose
        folder holds a fitted latent prior (Ghosh et al. 2020: faces nearer the data)."""
        return ["normal", "fitted"] if self.model(name).has_fitted_prior else ["normal"]

    def default_prior(self, name: str) -> str:
        """Where this model's random faces come from unless the user picks: a VAE's fitted prior where its folder
        has one (its faces lie nearer the data: FID 53.3 against 138.1 from N(0, I) for vae-anime64-best),
        else N(0, I)."""
        return self.priors(name)[-1]

    def _prior(self, name: str, temperature: float, prior: str | None) -> str:
        """``prior`` (None: the model's default) once checked, with the temperature, for drawing from it."""
        if not valid_temperature(temperature):
            raise RequestError("temperature must lie in (0, 2]")
        prior = prior or self.default_prior(name)
        if prior not in PRIOR_LABELS:
            raise RequestError(f"unknown prior '{prior}' (choose from {', '.join(PRIOR_LABELS)})")
        if prior not in self.priors(name):
            raise CheckpointError(f"{name} has no fitted latent prior (a VAE gets one from "
                                  f"'python -m trainer fit-prior --checkpoint checkpoints/{name}')")
        return prior

    def sample_latents(self, name: str, seed: int, count: int = 16, temperature: float = 1.0,
                       prior: str | None = None) -> np.ndarray:
        """(count, D): sample i of a seed is the same latent in every front end, whatever the count."""
        if not 1 <= count <= 64:
            raise RequestError("count must be between 1 and 64")
        prior = self._prior(name, temperature, prior)
        model = self.model(name)
        return np.stack([model.random_latent(seed * 1000 + i, temperature, prior) for i in range(count)])

    def samples(self, name: str, seed: int, count: int = 16, temperature: float = 1.0, prior: str | None = None
                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The faces of ``sample_latents``, their latents (to load one into the sliders) and captions."""
        prior = prior or self.default_prior(name)
        latents = self.sample_latents(name, seed, count, temperature, prior)
        source = "" if prior == "normal" else f" · {PRIOR_LABELS[prior]}"
        return (self.model(name).decode(latents), latents,
                [f"seed {seed} · sample {i + 1}{source}" for i in range(count)])

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

    def summary(self, name: str) -> ModelSummary:
        """What the model is and its figures, as numbers (each front end words them)."""
        return model_summary(name, self.model(name))

    def results(self) -> list[dict]:
        """One row per evaluation of every model here (and of the superseded steps of their lineages, marked
        not shipped), figures as numbers; the front ends add seed 002's published figures."""
        return results_rows(evaluated(self.root))

    # ── the map ──────────────────────────────────────────────────────────────────────────────────────
    def map_options(self, name: str) -> tuple[list[str], list[str]]:
        """Which 2-D maps and which colourings this model's atlas offers."""
        atlas = self.model(name).atlas
        # "source" where the atlas mixes data sets (the tagged and the Kaggle anime archives): do they differ?
        colourings = (["cluster", "split"] + (["source"] if len(np.unique(atlas.source)) > 1 else [])
                      + [k for k, v in atlas.tags.items() if (v != "").any()])
        return [m for m in ("umap", "tsne", "pca") if m in atlas.maps], colourings

    def map_data(self, name: str, map_name: str, colour_by: str) -> dict:
        """Everything the browser needs to draw the map: coordinates, a category code per point, the category
        names and their colours. Point i of the payload is atlas row i (the browser sends these indices back)."""
        atlas = self.model(name).atlas
        maps, colourings = self.map_options(name)
        if map_name not in maps or colour_by not in colourings:
            raise RequestError(f"choose a map from {maps} and a colouring from {colourings}")
        if colour_by == "cluster":  # numeric order: cluster 2 before cluster 10
            codes = atlas.cluster.astype(int)
            categories = np.array([f"cluster {c}" for c in range(int(codes.max()) + 1)])
        else:
            labels = (np.where(atlas.is_test, "test", "train") if colour_by == "split"
                      else atlas.source if colour_by == "source"
                      else np.where(atlas.tags[colour_by] == "", UNTAGGED_LABEL, atlas.tags[colour_by]))
            categories, codes = np.unique(labels, return_inverse=True)  # sorted: "(untagged)" first, drawn beneath
        xy = atlas.maps[map_name]
        return {"model": name, "map": map_name, "colour_by": colour_by, "count": len(xy),
                "x": np.round(xy[:, 0].astype(float), 3).tolist(), "y": np.round(xy[:, 1].astype(float), 3).tolist(),
                "codes": codes.astype(int).tolist(), "categories": categories.tolist(),
                "colours": category_colours(colour_by, categories.tolist()), "highlight": None}

    def point(self, name: str, index: int) -> tuple[np.ndarray, np.ndarray, str]:
        """Atlas row ``index``: its latent, its decoded face and a one-line description."""
        atlas = self.model(name).atlas
        if not 0 <= int(index) < len(atlas):
            raise RequestError(f"point {index} is not on this map (0…{len(atlas) - 1})")
        index = int(index)
        latent = atlas.mu[index].astype(np.float32)
        tags = ", ".join(f"{k} {v[index]}" for k, v in atlas.tags.items() if v[index])
        label = (f"{atlas.ids[index]} · {'test' if atlas.is_test[index] else 'train'} · cluster "
                 f"{atlas.cluster[index]}" + (f" · {tags}" if tags else ""))
        return latent, self.model(name).decode(latent), label

    def original(self, name: str, index: int) -> np.ndarray | None:
        """The dataset image behind map point ``index`` from the local data, as the model saw it (None: the
        app was not given the data, or the data does not hold that image)."""
        if not self.originals:
            return None
        model = self.model(name)
        if not 0 <= int(index) < len(model.atlas):
            raise RequestError(f"point {index} is not on this map (0…{len(model.atlas) - 1})")
        return self.originals.original(model.atlas.ids[int(index)], model.image_size, model.image_channels)

    def selection(self, name: str, indices: list[int], limit: int = 48) -> list[tuple[np.ndarray, str]]:
        """Decoded faces of (up to ``limit`` of) the selected points, with their labels."""
        if not indices:
            return []
        chosen = [int(i) for i in indices[:limit]]
        model = self.model(name)
        if min(chosen) < 0 or max(chosen) >= len(model.atlas):
            raise RequestError("the selection names points that are not on this map")
        faces = model.decode(model.atlas.mu[chosen].astype(np.float32))
        return [(face, str(model.atlas.ids[i])) for face, i in zip(faces, chosen)]

    def placement(self, name: str, latent: np.ndarray, map_name: str, count: int = 8) -> dict:
        """Where a latent (an upload's) lands on a map, and its nearest encoded neighbours."""
        model = self.model(name)
        latent = check_latent(latent, model.latent_dim)
        if map_name not in model.atlas.maps:
            raise RequestError(f"{name} has no {map_name} map (it has {', '.join(model.atlas.maps)})")
        nearest, distances = model.neighbours(latent, count)
        x, y = model.place_on_map(latent, map_name, count)
        return {"x": float(x), "y": float(y), "neighbours": [int(i) for i in nearest],
                "distances": [round(float(d), 4) for d in distances],
                "ids": [str(model.atlas.ids[i]) for i in nearest]}
