"""A shipped model's lineage: the superseded steps that led to it, kept as figures after their folders left.

``lineage.json`` in a model folder lists each step (what changed, the command that trains it, its test and
evaluation figures, and the name it ships under, if any). The model card shows it as a table; the results
table keeps the steps that are not shipped as history rows (read back by ``trainer.models.records``).
"""

from __future__ import annotations


def _fid(evaluation: dict, key: str) -> str:
    return f"{evaluation[key]['fid']:.1f}" if key in evaluation else "—"


def lineage_section(lineage: dict) -> str:
    """The card's "## Lineage": a row per step with its figures, then the command that trains each."""
    lines = ["## Lineage", "", lineage["why"], "",
             "| step | what changed | epochs | test PSNR | FID, N(0, I) | FID, fitted prior | rFID | shipped |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for step in lineage["steps"]:
        evaluation = step["evaluation"]
        realism = evaluation["reconstruction"].get("realism")
        rfid = f"{realism['fid']:.1f}" if realism else "—"
        shipped = f"as `{step['shipped_as']}`" if step.get("shipped_as") else "no"
        lines.append(f"| `{step['name']}` | {step['change']} | {step['epochs']} | {step['test']['test_psnr']:.2f} dB "
                     f"| {_fid(evaluation, 'generation')} | {_fid(evaluation, 'generation_fitted_prior')} "
                     f"| {rfid} | {shipped} |")
    lines += ["", "FIDs: 10,000 samples against 10,000 training images (see Evaluation). Each step's training run:",
              "", "```bash", *[step["command"] for step in lineage["steps"]], "```", ""]
    return "\n".join(lines)
