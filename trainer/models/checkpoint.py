"""Self-describing checkpoint folders: ``config.json`` + ``model.safetensors``, never pickled code.

Modelled on diffusers' ``save_pretrained``/``from_pretrained``: the config rebuilds the architecture,
the weights load strictly, and every way a folder can be wrong is reported as one ``CheckpointError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from trainer import __version__
from trainer.atomic import atomic_write, atomic_write_json

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
# Present while ``python -m trainer build`` is still writing a folder: the explorer does not offer it yet.
BUILDING_NAME = ".build-in-progress"
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint folder is missing, malformed, of the wrong model type, or does not match its weights."""


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str | None:
    """The commit of the source tree the weights were trained from (None outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
            capture_output=True, text=True, timeout=5, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def config_from_dict(config_class: type, values: dict[str, Any]):
    """Build a frozen config dataclass from JSON values, rejecting unknown keys (lists become tuples)."""
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise CheckpointError(f"unknown {config_class.__name__} keys: {', '.join(unknown)}")
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return config_class(**clean)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"invalid {config_class.__name__}: {error}") from None


def read_checkpoint_config(directory: Path) -> dict[str, Any]:
    """Read and sanity-check ``config.json`` of a checkpoint folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint folder not found: {directory}")
    config_path = directory / CONFIG_NAME
    if not config_path.is_file():
        raise CheckpointError(f"{directory} has no {CONFIG_NAME}: not a checkpoint folder")
    try:
        meta = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{config_path} is not valid JSON: {error}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict) or "model_type" not in meta:
        raise CheckpointError(f"{config_path} lacks 'model_type' and 'config'")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{directory} was written by a newer format (v{meta['format_version']}); upgrade the package"
        )
    return meta


class PretrainedMixin:
    """Adds ``save_pretrained``/``from_pretrained`` to an ``nn.Module`` whose only argument is ``config``."""

    model_type: ClassVar[str]
    config_class: ClassVar[type]

    def save_pretrained(
        self, directory: Path, *, dtype: torch.dtype | None = None, extra: dict[str, Any] | None = None
    ) -> Path:
        """Write ``config.json`` and ``model.safetensors`` atomically; ``dtype=torch.float16`` halves the size."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # Save from the plain module: a torch.compile wrapper would prefix keys with "_orig_mod.".
        state = {k: v.detach().to("cpu").contiguous() for k, v in self.state_dict().items()}
        if dtype is not None:
            state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
        atomic_write(directory / WEIGHTS_NAME, lambda tmp: save_file(state, str(tmp)))
        meta = {
            "format_version": FORMAT_VERSION,
            "model_type": self.model_type,
            "config": dataclasses.asdict(self.config),
            "weights_sha256": sha256_of_file(directory / WEIGHTS_NAME),
            "weights_dtype": str(dtype or next(iter(state.values())).dtype).replace("torch.", ""),
            "package_version": __version__,
            "git_commit": git_commit(),
            **(extra or {}),
        }
        atomic_write_json(directory / CONFIG_NAME, meta)
        return directory

    @classmethod
    def from_pretrained(cls, directory: Path, *, device: str | torch.device = "cpu", verify: bool = True):
        """Rebuild the model from ``config.json`` and load ``model.safetensors`` strictly (float32, eval mode)."""
        directory = Path(directory)
        meta = read_checkpoint_config(directory)
        if meta["model_type"] != cls.model_type:
            raise CheckpointError(
                f"{directory} holds a '{meta['model_type']}' model, not a '{cls.model_type}' model"
            )
        config = config_from_dict(cls.config_class, meta["config"])
        weights = directory / WEIGHTS_NAME
        if not weights.is_file():
            raise CheckpointError(f"{directory} has no {WEIGHTS_NAME}")
        if verify and meta.get("weights_sha256") and sha256_of_file(weights) != meta["weights_sha256"]:
            raise CheckpointError(f"{weights} does not match the hash in {CONFIG_NAME} (modified or corrupt)")
        try:
            state = load_file(str(weights))
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{weights} is not a readable safetensors file: {error}") from None
        model = cls(config)
        load_state_strictly(model, state, weights)
        return model.to(device).eval()


def load_state_strictly(model: torch.nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """Load weights only if every name and shape matches; say exactly what differs otherwise."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items() if k in state and state[k].shape != v.shape
    )
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} tensors (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
    if wrong_shape:
        problems.append(f"{len(wrong_shape)} shape mismatches (e.g. {wrong_shape[0]})")
    if problems:
        raise CheckpointError(f"{source} does not fit its config: " + "; ".join(problems))
    cast = {k: v.to(expected[k].dtype) for k, v in state.items()}
    model.load_state_dict(cast, strict=True)
