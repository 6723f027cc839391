"""A model's summary as data: what it is and its figures, read from its folder (the front ends word it:
``webui.wording.summary_markdown``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.model import ExplorerModel

# The end-of-training test figures a summary carries, in the order shown (the rest are in the model card).
TEST_KEYS = ("mse", "psnr", "kl", "neg_elbo_nats", "d_real", "d_fake", "d_loss", "g_loss")


@dataclass(frozen=True)
class Generation:
    """Samples measured against real images (FID and its kin); ``samples`` and the reference as counted."""
    fid: float
    precision: float
    recall: float
    kid: float | None = None
    samples: int | None = None
    reference_images: int | None = None
    reference_split: str = ""
    temperature: float | None = None


@dataclass(frozen=True)
class ModelSummary:
    name: str
    kind: str  # "vae", "vae-gan" (a VAE whose decoder also learned against a discriminator) or "dcgan"
    latent_dim: int
    image_size: int
    epochs: int | None
    encoded: int  # images in the atlas
    gaussian_decoder: bool = False  # a σ-VAE: its −ELBO is a density over continuous pixels, may go below 0
    test: dict[str, float] = field(default_factory=dict)  # TEST_KEYS present, in that order
    generation: Generation | None = None  # from N(0, I)
    fitted_prior: Generation | None = None  # from the VAE's fitted latent prior
    reconstruction: dict[str, float | None] = field(default_factory=dict)  # psnr, ssim, rfid (None: not measured)
    temperature_sweep: list[Generation] = field(default_factory=list)  # from the fitted prior where there is one

    @property
    def is_vae(self) -> bool:
        return self.kind != "dcgan"


def _generation(g: dict | None) -> Generation | None:
    if not g:
        return None
    reference = g.get("reference") or {}
    kid = g.get("kid")
    return Generation(fid=g["fid"], precision=g["precision"], recall=g["recall"],
                      kid=kid["mean"] if isinstance(kid, dict) else None, samples=g.get("samples"),
                      reference_images=reference.get("images"), reference_split=reference.get("split", ""),
                      temperature=g.get("temperature"))


def model_summary(name: str, model: ExplorerModel) -> ModelSummary:
    metrics, config = model.metrics, model.train_config
    kind = "dcgan" if not model.is_vae else ("vae-gan" if config.get("adversarial_weight") else "vae")
    figures = metrics.get("test", {})
    test = {key: figures["test_" + key] for key in TEST_KEYS if isinstance(figures.get("test_" + key), (int, float))}
    evaluation = metrics.get("evaluation") or {}
    r = evaluation.get("reconstruction") or {}
    return ModelSummary(
        name=name, kind=kind, latent_dim=model.latent_dim, image_size=model.image_size,
        epochs=metrics.get("epochs"), encoded=len(model.atlas), gaussian_decoder=config.get("recon_loss") == "gaussian",
        test=test, generation=_generation(evaluation.get("generation")),
        fitted_prior=_generation(evaluation.get("generation_fitted_prior")),
        reconstruction={"psnr": r["psnr"], "ssim": r["ssim"], "rfid": (r.get("realism") or {}).get("fid")} if r else {},
        temperature_sweep=[_generation(g) for g in evaluation.get("temperature_sweep") or []])
