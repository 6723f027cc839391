"""The model picker's labels: each checkpoint's name, what it is in one short phrase, and its FID, the lowest of
its kind on its data starred.

A bare alphabetical list of folder names tells a newcomer neither what each model is nor which one samples
best. The phrases of the shipped models, and the order the picker lists them in, come from the checkpoints
folder's ``catalog.json``; a folder it does not list (a model of the user's own) gets a phrase made from its
config and comes after them.
"""

from __future__ import annotations

import json
from pathlib import Path

KINDS = {"conv_vae": "VAE", "dcgan": "DCGAN"}
CATALOG_NAME = "catalog.json"


def read_catalog(root: Path) -> dict[str, str]:
    """name → phrase, in the order the picker lists them; {} where there is no (readable) catalog."""
    try:
        found = json.loads((Path(root) / CATALOG_NAME).read_text())
    except (OSError, ValueError):
        return {}
    models = found.get("models") if isinstance(found, dict) else None
    return {str(k): str(v) for k, v in models.items()} if isinstance(models, dict) else {}


def read_welcome(root: Path) -> str:
    """The catalog's sentence under the model picker (what the models are and what to try first), or one that
    fits any folder of models where the catalog has none."""
    try:
        found = json.loads((Path(root) / CATALOG_NAME).read_text())
    except (OSError, ValueError):
        found = {}
    welcome = found.get("welcome") if isinstance(found, dict) else None
    return str(welcome) if welcome else "After each name: its FID, the lower the more real its samples look."


def derived_phrase(config: dict) -> str:
    """What a model is, from its config.json: "VAE, 16×16 grey, trained on synthetic"."""
    kind = KINDS.get(config.get("model_type"))
    if kind is None:
        return ""
    network = config.get("config") if isinstance(config.get("config"), dict) else {}
    size = network.get("image_size")
    shape = f", {size}×{size} {'grey' if network.get('image_channels') == 1 else 'colour'}" if size else ""
    sources = [s.get("name", "?") for s in (config.get("data") or {}).get("sources", []) if isinstance(s, dict)]
    return kind + shape + (f", trained on {' + '.join(sources)}" if sources else "")


def best_fid(evaluation: dict) -> tuple[float, bool] | None:
    """The lower FID of a model's samples from N(0, I) and from its fitted prior, and whether it is the latter."""
    found = [(float(evaluation[key]["fid"]), key == "generation_fitted_prior")
             for key in ("generation", "generation_fitted_prior")
             if isinstance(evaluation.get(key), dict) and isinstance(evaluation[key].get("fid"), (int, float))]
    return min(found) if found else None


def model_labels(models: dict[str, tuple[dict, dict]], phrases: dict[str, str] | None = None) -> dict[str, str]:
    """``models``: name → (config.json, metrics.json), either possibly empty; ``phrases``: name → what it is.
    Returns name → label, e.g. ``vae-anime64-best — the best VAE · FID 53.3 (fitted prior) ★ best VAE``; a model
    without an evaluation has no FID. FIDs compare only within one kind on one data set, so that is the group a
    star names."""
    figures, groups = {}, {}
    for name, (config, metrics) in models.items():
        evaluation = metrics.get("evaluation") or {}
        fid = best_fid(evaluation)
        if fid is None:
            continue
        kind = KINDS.get(config.get("model_type"), "model")
        data = tuple(sorted(s.get("name", "?") for s in (evaluation.get("data") or {}).get("sources", [])))
        figures[name] = fid
        groups.setdefault((kind, data), []).append(name)
    phrases = phrases or {}
    labels = {name: name + (f" — {phrase}" if (phrase := phrases.get(name) or derived_phrase(config)) else "")
              for name, (config, _) in models.items()}
    for name, (fid, fitted) in figures.items():
        labels[name] += f" · FID {fid:.1f}" + (" (fitted prior)" if fitted else "")
    for (kind, _), names in groups.items():
        lowest = min(figures[n][0] for n in names)
        best = [n for n in names if figures[n][0] == lowest]
        if len(best) < len(names):  # a star among one, or on every model of a tie, is no news
            for name in best:
                labels[name] += f" ★ best {kind}"
    return labels
