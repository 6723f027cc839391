"""What model folders record about themselves, read back for every reader: the results rows (one per
evaluation, from ``metrics.json``) and the superseded steps of a lineage (``lineage.json``).

Plain data, no formatting: the CLI writes the README's table from it (``trainer.metrics.report``), and the
explorer's front ends show it their own way; the explorer core reads it without importing ``trainer.metrics``.
"""

from __future__ import annotations

import json
from pathlib import Path

# Seed 002's reported figures; its sample counts and reference set are not stated.
SEED_002 = {"dcgan": {"fid": 45.3, "is": 7.2}, "vae": {"fid": 65.7, "is": 5.8}}

LINEAGE_NAME = "lineage.json"


def read_lineage(folder: Path) -> dict | None:
    path = Path(folder) / LINEAGE_NAME
    return json.loads(path.read_text()) if path.is_file() else None


def superseded(root: Path) -> dict[str, dict]:
    """name → metrics.json-like record ({"evaluation", "shipped": False}) of every step of every lineage
    under ``root`` that no folder ships any more."""
    found = {}
    for path in sorted(Path(root).glob(f"*/{LINEAGE_NAME}")):
        for step in json.loads(path.read_text())["steps"]:
            if not step.get("shipped_as") and step.get("evaluation"):
                found[step["name"]] = {"evaluation": step["evaluation"], "shipped": False}
    return found


def evaluated(root: Path) -> dict[str, dict]:
    """name → metrics.json of every model folder under ``root`` that has a readable one, and the superseded
    steps of their lineages (marked ``"shipped": False``), which the results keep as history."""
    models = {}
    for path in sorted(Path(root).glob("*/metrics.json")):
        try:
            metrics = json.loads(path.read_text())
        except (OSError, ValueError):  # loading that model says why; the table goes on without it
            continue
        if isinstance(metrics, dict) and metrics:
            models[path.parent.name] = metrics
    return {**superseded(root), **models}


def results_rows(models: dict[str, dict]) -> list[dict]:
    """``models``: name → metrics.json. One row per model with an evaluation, and one more for a VAE's
    samples from its fitted latent prior; the superseded steps of a lineage (``"shipped": False``) come after
    the shipped models, in the order given (the lineage's), marked as not shipped."""
    rows = []
    shipped = sorted(item for item in models.items() if item[1].get("shipped", True))
    for name, metrics in shipped + [item for item in models.items() if not item[1].get("shipped", True)]:
        evaluation = metrics.get("evaluation")
        if not evaluation:
            continue
        history = "" if metrics.get("shipped", True) else "not shipped"
        for key, note in (("generation", history), ("generation_fitted_prior", ", ".join(filter(None, ["fitted prior", history])))):
            if key in evaluation:
                rows.append(_result_row(f"{name} ({note})" if note else name, evaluation[key], evaluation))
    return rows


def _result_row(name: str, g: dict, evaluation: dict) -> dict:
    return {"model": name, "fid": g["fid"], "kid": g["kid"]["mean"], "precision": g["precision"],
            "recall": g["recall"], "psnr": evaluation["reconstruction"]["psnr"],
            "ssim": evaluation["reconstruction"]["ssim"], "samples": g["samples"],
            "rfid": (evaluation["reconstruction"].get("realism") or {}).get("fid"),
            "reference": f"{g['reference']['images']:,} {g['reference']['split']}",
            "data": " + ".join(s["name"] for s in evaluation.get("data", {}).get("sources", [])) or "?"}
