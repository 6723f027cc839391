"""Evaluation figures as Markdown: a model card section and the cross-model results table."""

from __future__ import annotations

import re

from trainer.models.records import SEED_002

SECTION_TITLE = "## Evaluation"


def _f(value, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if isinstance(value, (int, float)) else "—"


def evaluation_section(evaluation: dict) -> str:
    g, r, d = evaluation["generation"], evaluation["reconstruction"], evaluation["disentanglement"]
    ref = g["reference"]
    lines = [
        SECTION_TITLE, "",
        f"Measured {evaluation['created']} on {evaluation['hardware']} in {evaluation['wall_time_s']:.0f} s "
        f"with `{evaluation['command']}`.", "",
        f"Generation: {g['samples']:,} samples against {ref['images']:,} real {ref['split']}-split images "
        f"({ref['selection']}); Inception-v3 pool3 features ({g['feature_network']}; {g['preprocessing']}).", "",
        "| figure | value |", "| --- | --- |",
        f"| FID | {g['fid']:.2f} |",
        f"| KID (×10³) | {1e3 * g['kid']['mean']:.2f} ± {1e3 * g['kid']['std']:.2f} "
        f"({g['kid']['subsets']} subsets of {g['kid']['subset_size']}) |",
        f"| precision / recall (k = {g['nearest_k']}) | {g['precision']:.3f} / {g['recall']:.3f} |",
        f"| density / coverage | {g['density']:.3f} / {g['coverage']:.3f} |",
        *_fitted_prior_rows(evaluation.get("generation_fitted_prior")),
        *_temperature_rows(evaluation.get("temperature_sweep")),
        f"| Inception Score | not available: {evaluation['inception_score']['reason']} |",
        f"| test MSE / PSNR / SSIM ({r['images']:,} images, {r['encoder']}) | {r['mse']:.4f} / "
        f"{r['psnr']:.2f} dB / {r['ssim']:.3f} |",
        *_realism_rows(r.get("realism")),
    ]
    if d.get("probes"):
        lines += ["", "Attributes in the latent code (linear probe fit on train, scored on test; MIG over "
                  f"{d['mig']['bins'] if d.get('mig') else '—'} bins per dimension):", "",
                  "| attribute | probe | chance | MIG |", "| --- | --- | --- | --- |"]
        gaps = (d.get("mig") or {}).get("per_factor", {})
        for name, probe in sorted(d["probes"].items()):  # metrics.json's order: a card rebuilt from it matches
            if probe is None:
                continue
            score = (f"accuracy {probe['accuracy']:.3f} ({probe['classes']} classes)" if "accuracy" in probe
                     else f"R² {probe['r2']:.3f}")
            chance = f"{probe['chance']:.3f}" if "chance" in probe else "0 (R²)"
            lines.append(f"| {name} | {score} | {chance} | {_f(gaps.get(name), 3)} |")
        if d.get("mig"):
            lines += ["", f"Mean MIG: {d['mig']['score']:.3f}."]
    return "\n".join(lines) + "\n"


def _fitted_prior_rows(g: dict | None) -> list[str]:
    """The same generation figures for samples drawn from the fitted latent prior (a VAE with one)."""
    if not g:
        return []
    return [f"| FID, fitted prior | {g['fid']:.2f} |",
            f"| KID (×10³), fitted prior | {1e3 * g['kid']['mean']:.2f} ± {1e3 * g['kid']['std']:.2f} |",
            f"| precision / recall, fitted prior | {g['precision']:.3f} / {g['recall']:.3f} |",
            f"| density / coverage, fitted prior | {g['density']:.3f} / {g['coverage']:.3f} |"]


def _temperature_rows(sweep: list[dict] | None) -> list[str]:
    """The truncation trade-off: the same figures for z drawn with its spread scaled by each temperature."""
    return [f"| FID / precision / recall at temperature {g['temperature']:g} "
            f"({'fitted prior' if g['sampling'].startswith('z ~ fitted') else 'N(0, I)'}) "
            f"| {g['fid']:.2f} / {g['precision']:.3f} / {g['recall']:.3f} |" for g in sweep or []]


def _realism_rows(realism: dict | None) -> list[str]:
    """rFID: the decoder measured apart from the latent distribution (evaluations since it was added)."""
    if not realism:
        return []
    return [f"| reconstruction FID / KID (×10³) ({realism['images']:,} test images against the same real images) "
            f"| {realism['fid']:.2f} / {1e3 * realism['kid']['mean']:.2f} |"]


def replace_card_section(card: str, section: str) -> str:
    """Put ``section`` (starting with its "## Title" line) in place of the card's section of that title, else
    before "## Reproduce" (else at the end)."""
    title = section.splitlines()[0]
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(card):
        return pattern.sub(lambda _: section + "\n", card, count=1)
    if "\n## Reproduce" in card:
        head, tail = card.split("\n## Reproduce", 1)
        return f"{head.rstrip()}\n\n{section}\n## Reproduce{tail}"
    return f"{card.rstrip()}\n\n{section}"


def inversion_section(inversion: dict, name: str, data_args: str) -> str:
    """The DCGAN's inversion encoder: how it was trained and how well G(E(x)) reproduces test faces."""
    m = inversion.get("metrics", {})
    return "\n".join([
        "## Inversion encoder", "",
        f"`inversion/` holds the image → z encoder the map, the uploads and the evaluation use: "
        f"{inversion['synthetic_steps']:,} steps on generated pairs (G(z), z), then {inversion['real_steps']:,} "
        f"on real faces (pixel + discriminator-feature loss), batch {inversion['batch_size']}. "
        f"Test split ({m.get('test_images', '?'):,} faces): G(E(x)) MSE {m.get('test_mse', float('nan')):.4f}, "
        f"PSNR {m.get('test_psnr', float('nan')):.2f} dB; latent MSE on fresh generated pairs "
        f"{m.get('generated_latent_mse', float('nan')):.3f}. The app refines each upload's code with 40 more "
        "steps of optimisation.", "",
        "```bash",
        f"python -m trainer invert --checkpoint checkpoints/{name} {data_args} --synthetic-steps "
        f"{inversion['synthetic_steps']} --real-steps {inversion['real_steps']} --batch-size {inversion['batch_size']}",
        "```", ""])


def results_table(rows: list[dict]) -> str:
    """The results table in Markdown (the README's and the app's): ``rows`` from
    ``trainer.models.records.results_rows``, then seed 002's published figures."""
    # Figures compare only within one data set: the column says which real images each model is measured on.
    header = ["| model | FID ↓ | KID ×10³ ↓ | precision ↑ | recall ↑ | test PSNR ↑ | test SSIM ↑ | rFID ↓ | IS "
              "| samples vs real | data |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    rows = [f"| `{r['model']}` | {r['fid']:.1f} | {1e3 * r['kid']:.1f} | {r['precision']:.3f} | {r['recall']:.3f} "
            f"| {r['psnr']:.2f} dB | {r['ssim']:.3f} | {'—' if r['rfid'] is None else format(r['rfid'], '.1f')} | n/a "
            f"| {r['samples']:,} vs {r['reference']} | {r['data']} |"
            for r in rows]
    seed = [f"| seed 002 {kind.upper()} (reference) | {v['fid']} | — | — | — | — | — | — | {v['is']} | unknown "
            "| anime faces |" for kind, v in SEED_002.items()]
    return "\n".join(header + rows + seed)
