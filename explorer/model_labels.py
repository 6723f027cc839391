"""The model picker's labels: each checkpoint's name with its FID, the lowest of its kind on its data starred.

With eight anime VAEs side by side, a bare alphabetical list hides which one samples best; the label carries
the figure a user would otherwise look up in the Results tab.
"""

from __future__ import annotations

KINDS = {"conv_vae": "VAE", "dcgan": "DCGAN"}


def best_fid(evaluation: dict) -> tuple[float, bool] | None:
    """The lower FID of a model's samples from N(0, I) and from its fitted prior, and whether it is the latter."""
    found = [(float(evaluation[key]["fid"]), key == "generation_fitted_prior")
             for key in ("generation", "generation_fitted_prior")
             if isinstance(evaluation.get(key), dict) and isinstance(evaluation[key].get("fid"), (int, float))]
    return min(found) if found else None


def model_labels(models: dict[str, tuple[dict, dict]]) -> dict[str, str]:
    """``models``: name → (config.json, metrics.json), either possibly empty. Returns name → label, e.g.
    ``vae-anime64-refine64-z256 · FID 53.3 (fitted prior) ★ best VAE``; a model without an evaluation keeps
    its bare name. FIDs compare only within one kind on one data set, so that is the group a star names."""
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
    labels = {name: name for name in models}
    for name, (fid, fitted) in figures.items():
        labels[name] = f"{name} · FID {fid:.1f}" + (" (fitted prior)" if fitted else "")
    for (kind, _), names in groups.items():
        lowest = min(figures[n][0] for n in names)
        best = [n for n in names if figures[n][0] == lowest]
        if len(best) < len(names):  # a star among one, or on every model of a tie, is no news
            for name in best:
                labels[name] += f" ★ best {kind}"
    return labels
