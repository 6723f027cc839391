"""The words both front ends show for the core's data: a model's summary and the results table.

The core (``explorer``) returns figures as numbers; how each is named, with its unit and digits, is said once
here, so the Gradio and Streamlit pages read the same.
"""

from __future__ import annotations

from explorer.glossary import PRIOR_LABELS
from explorer.model_summary import Generation, ModelSummary
from trainer.metrics.report import results_table
from trainer.models.records import SEED_002

# A summary's test figures: their names and units.
TEST_FIGURES = {
    "mse": ("MSE", "{:.4f}"), "psnr": ("PSNR", "{:.2f} dB"), "kl": ("KL", "{:.1f} nats"),
    "neg_elbo_nats": ("−ELBO", "{:.1f} nats"), "d_real": ("D(real)", "{:.3f}"), "d_fake": ("D(fake)", "{:.3f}"),
    "d_loss": ("D loss", "{:.3f}"), "g_loss": ("G loss", "{:.3f}"),
}
KINDS = {"vae": "VAE", "dcgan": "DCGAN", "vae-gan": "VAE-GAN (a VAE whose decoder also learned against a discriminator)"}


def _fpr(g: Generation) -> str:
    return f"FID {g.fid:.1f}, precision {g.precision:.3f}, recall {g.recall:.3f}"


def summary_markdown(s: ModelSummary) -> str:
    """Markdown for the model page: what it is and its figures, each named with its unit."""
    return "\n\n".join(part for part in (summary_headline(s), summary_figures(s)) if part)  # a model may have none


def summary_headline(s: ModelSummary) -> str:
    """What the model is, in one line."""
    return (f"**{s.name}** · {KINDS[s.kind]} · latent {s.latent_dim} · {s.image_size}×{s.image_size} · "
            f"{'?' if s.epochs is None else s.epochs} epochs · {s.encoded:,} encoded images")


def summary_figures(s: ModelSummary) -> str:
    """The model's figures, a line per kind (test split, evaluation, sampling temperature)."""
    lines, shown = [], []
    for key, value in s.test.items():
        label, form = TEST_FIGURES[key]
        text = f"{label} {form.format(value)}"
        if key == "neg_elbo_nats" and s.gaussian_decoder:  # σ-VAE: its −ELBO goes below zero, say why
            text += " (Gaussian decoder: a density over continuous pixels)"
        shown.append(text)
    if shown:
        lines.append(("Test split: " if s.is_vae else "Test split, training diagnostics: ") + " · ".join(shown))
    g, r = s.generation, s.reconstruction
    if g and r:
        from_prior = f" · from the fitted prior: {_fpr(s.fitted_prior)}" if s.fitted_prior else ""
        kid = f" · KID×10³ {1e3 * g.kid:.1f}" if g.kid is not None else ""
        lines.append(f"Evaluation: FID {g.fid:.1f}{kid} · precision {g.precision:.3f} · recall {g.recall:.3f} "
                     f"({g.samples:,} samples vs {g.reference_images:,} {g.reference_split} images){from_prior} · "
                     f"reconstruction PSNR {r['psnr']:.2f} dB · SSIM {r['ssim']:.3f}"
                     + (f" · rFID {r['rfid']:.1f}" if r.get("rfid") is not None else "") + " · Inception Score: not "
                     "available (the offline FID network has no classifier head; see Results)")
        if s.temperature_sweep:  # what the temperature slider trades: precision against recall
            lines.append("Sampling temperature: " + " · ".join(
                f"T {t.temperature:g}: {_fpr(t)}" for t in s.temperature_sweep)
                + f" ({PRIOR_LABELS['fitted' if s.fitted_prior else 'normal']})")
    return "\n\n".join(lines)


def results_markdown(rows: list[dict]) -> str:
    """The results table as the README shows it, and what its figures are."""
    return f"{results_table(rows)}\n\n{results_note(rows)}"


def results_records(rows: list[dict]) -> list[dict]:
    """The results as records for a sortable table: figures as numbers (None where not measured), so columns
    sort by value; IS as text, as ours is not available; seed 002's published figures last."""
    records = [{"model": r["model"], "FID": r["fid"], "KID ×10³": 1e3 * r["kid"], "precision": r["precision"],
                "recall": r["recall"], "test PSNR (dB)": r["psnr"], "test SSIM": r["ssim"], "rFID": r["rfid"],
                "IS": "n/a", "samples vs real": f"{r['samples']:,} vs {r['reference']}", "data": r["data"]}
               for r in rows]
    empty = dict.fromkeys(("KID ×10³", "precision", "recall", "test PSNR (dB)", "test SSIM", "rFID"))
    return records + [{"model": f"seed 002 {kind.upper()} (reference)", "FID": v["fid"], **empty, "IS": f"{v['is']}",
                       "samples vs real": "unknown", "data": "anime faces"} for kind, v in SEED_002.items()]


def results_note(rows: list[dict]) -> str:
    """What the table's figures are."""
    unmeasured = any(row["rfid"] is None for row in rows)
    return ("FID/KID/precision/recall: Inception-v3 pool3 features of generated samples against "
            "real training images (counts under samples vs real). Seed 002 did not state its sample counts or "
            "reference set, so its figures are a guide, not a like-for-like comparison. rFID: the same FID for test "
            "images passed through the model's encoder and decoder (the DCGAN's inversion encoder), the "
            "decoder measured apart from the latent sampled"
            + ("; — where a model was evaluated before it was added" if unmeasured else "")
            + ". Inception Score: not available offline (the FID network has no classifier head).")
