"""A model's summary for the model page: what it is and its figures, each named with its unit."""

from __future__ import annotations

from explorer.model import ExplorerModel
from explorer.glossary import PRIOR_LABELS

# The end-of-training test figures a summary names, with their units (the rest are in the model card).
TEST_FIGURES = {
    "mse": ("MSE", "{:.4f}"), "psnr": ("PSNR", "{:.2f} dB"), "kl": ("KL", "{:.1f} nats"),
    "neg_elbo_nats": ("−ELBO", "{:.1f} nats"), "d_real": ("D(real)", "{:.3f}"), "d_fake": ("D(fake)", "{:.3f}"),
    "d_loss": ("D loss", "{:.3f}"), "g_loss": ("G loss", "{:.3f}"),
}


def model_summary(name: str, model: ExplorerModel) -> str:
    """Markdown for the model page: what it is and its figures, each named with its unit."""
    metrics = model.metrics
    kind = "DCGAN" if not model.is_vae else (
        "VAE-GAN (a VAE whose decoder also learned against a discriminator)"
        if model.train_config.get("adversarial_weight") else "VAE")
    lines = [f"**{name}** · {kind} · latent {model.latent_dim} · "
             f"{model.image_size}×{model.image_size} · {metrics.get('epochs', '?')} epochs · "
             f"{len(model.atlas):,} encoded images"]
    figures = metrics.get("test", {})
    shown = [f"{label} {form.format(figures['test_' + key])}" for key, (label, form) in TEST_FIGURES.items()
             if isinstance(figures.get("test_" + key), (int, float))]
    if model.train_config.get("recon_loss") == "gaussian":  # σ-VAE: its −ELBO goes below zero, say why
        shown = [f"{s} (Gaussian decoder: a density over continuous pixels)" if s.startswith("−ELBO") else s
                 for s in shown]
    if shown:
        lines.append(("Test split: " if model.is_vae else "Test split, training diagnostics: ") + " · ".join(shown))
    evaluation = metrics.get("evaluation")
    if evaluation:
        g, r = evaluation["generation"], evaluation["reconstruction"]
        fitted = evaluation.get("generation_fitted_prior")
        from_prior = (f" · from the fitted prior: FID {fitted['fid']:.1f}, precision {fitted['precision']:.3f}, "
                      f"recall {fitted['recall']:.3f}" if fitted else "")
        lines.append(f"Evaluation: FID {g['fid']:.1f} · KID×10³ {1e3 * g['kid']['mean']:.1f} · precision "
                     f"{g['precision']:.3f} · recall {g['recall']:.3f} ({g['samples']:,} samples vs "
                     f"{g['reference']['images']:,} {g['reference']['split']} images){from_prior} · "
                     f"reconstruction PSNR {r['psnr']:.2f} dB · SSIM {r['ssim']:.3f}"
                     + (f" · rFID {r['realism']['fid']:.1f}" if r.get("realism") else "") + " · Inception Score: not "
                     f"available (the offline FID network has no classifier head; see Results)")
        sweep = evaluation.get("temperature_sweep") or []
        if sweep:  # what the temperature slider trades: precision against recall
            lines.append("Sampling temperature: " + " · ".join(
                f"T {g['temperature']:g}: FID {g['fid']:.1f}, precision {g['precision']:.3f}, recall "
                f"{g['recall']:.3f}" for g in sweep) + f" ({PRIOR_LABELS['fitted' if fitted else 'normal']})")
    return "\n\n".join(lines)
