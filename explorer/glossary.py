"""The words a newcomer meets in the explorer, each said once in plain terms, for both front ends.

Figures keep their exact names (FID, KID×10³, AUC…) where they are shown; the explanation is one hover or
one glossary line away. What a model draws (faces, garments) comes from the data it was trained on.
"""

from __future__ import annotations

import html
import re

PRIOR_LABELS = {"normal": "N(0, I)", "fitted": "fitted prior"}  # where z comes from, as the app says it
# Each term as it appears in the app → what it means, in one line.
TERMS = {
    "FID": "Fréchet Inception Distance between samples and real images: lower is closer to real (0 = identical)",
    "KID×10³": "Kernel Inception Distance ×1000: like FID, unbiased for small sample counts; lower is better",
    "precision": "share of samples that look like some real image (realism)",
    "recall": "share of real images that some sample looks like (variety)",
    "rFID": "FID of test images passed through the encoder and decoder: how real reconstructions look",
    "PSNR": "peak signal-to-noise ratio of reconstructions, in dB: higher is closer to the input",
    "SSIM": "structural similarity of reconstructions, 0 to 1: higher keeps more of the input's structure",
    "MSE": "mean squared error per pixel of reconstructions (pixels 0…1): lower is closer",
    "KL": "nats of information the encoder puts in the latent beyond the N(0, I) prior",
    "−ELBO": "negative evidence lower bound, in nats per image: lower means the model explains the data better",
    "D(real)": "the discriminator's mean score on real test images (1 = sure it is real)",
    "D(fake)": "the discriminator's mean score on generated images (0 = sure it is fake)",
    "D loss": "the discriminator's loss on real test images and fresh samples: 1.39 (2 ln 2) when it cannot tell "
              "them apart, lower as it wins",
    "G loss": "the generator's loss, −log D(G(z)): lower when its samples fool the discriminator",
    "AUC": "how well a direction separates images with and without a tag: 0.5 chance, 1 perfect",
}
SLIDER_WORDS = ("**PC1 (3.8%)**: the 1st principal direction of the encoded images, holding 3.8% of their variance · "
                "**z89 (KL 7.45)**: latent unit 89, carrying 7.45 nats of information · "
                "**hair: pink · AUC 0.89**: a direction found from the data's tags; AUC 0.5 is chance, 1 tells the "
                "tag apart perfectly · every slider runs from −3σ to +3σ")
_TERM = re.compile("|".join(rf"(?<!\w){re.escape(term)}(?!\w)" for term in sorted(TERMS, key=len, reverse=True)))


def with_tooltips(markdown: str) -> str:
    """``markdown`` with each glossary term wrapped in ``<abbr title="…">``: its meaning on hover."""
    return _TERM.sub(lambda m: f'<abbr title="{html.escape(TERMS[m.group(0)])}">{m.group(0)}</abbr>', markdown)


def slider_label(direction) -> str:
    """A slider's label: its direction's name and, for a direction found from tags, its AUC."""
    return direction.name + (f" · AUC {direction.score:.2f}" if direction.score is not None else "")


def glossary_lines() -> str:
    """Every term and its meaning, a Markdown line each."""
    return "\n".join(f"- **{term}**: {meaning}" for term, meaning in TERMS.items())


def subject(sources: list[str]) -> str:
    """What a model trained on ``sources`` (its data source names) draws: "face", "garment" or "image"."""
    names = [str(s).lower() for s in sources]
    if names and all("anime" in n or "face" in n or n.startswith("synthetic") for n in names):
        return "face"
    if names and all("fashion" in n for n in names):
        return "garment"
    return "image"
