"""Every folder shipped in checkpoints/ loads, decodes a face and carries a fresh atlas and its documents."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.models import load_model
from trainer.models.atlas import load_atlas
from trainer.models.latent_prior import PRIOR_NAME, load_latent_prior

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
# The curated set a user chooses from: seed 000's VAE (the reference), the best anime VAE, the DCGAN, and the
# two Fashion-MNIST VAEs. A better model replaces the folder it beats; its lineage keeps the figures.
SHIPPED = ["dcgan-anime64", "vae-anime64", "vae-anime64-best", "vae-fashion28", "vae-fashion28-beta4"]
FOUND = sorted(p.parent.name for p in CHECKPOINTS.glob("*/config.json"))


def test_the_curated_models_are_shipped_and_nothing_else():
    assert FOUND == sorted(SHIPPED), f"checkpoints/ holds {FOUND}"


def test_the_catalog_names_every_shipped_model_and_opens_on_the_best_vae():
    from explorer.model_labels import read_catalog

    catalog = read_catalog(CHECKPOINTS)
    assert sorted(catalog) == sorted(SHIPPED) and list(catalog)[0] == "vae-anime64-best"
    assert all(0 < len(phrase) <= 60 for phrase in catalog.values())  # one short phrase each
    from explorer.service import Explorer

    choices = Explorer(CHECKPOINTS, data=[]).model_choices()  # what `python app.py` offers, in its order
    assert [name for _, name in choices] == list(catalog)
    assert all(label.startswith(f"{name} — {catalog[name]}") for label, name in choices)


def test_the_best_vaes_card_carries_its_lineage():
    from trainer.lineage import lineage_section
    from trainer.models.records import read_lineage, superseded

    lineage = read_lineage(CHECKPOINTS / "vae-anime64-best")
    assert lineage_section(lineage) in (CHECKPOINTS / "vae-anime64-best" / "MODEL_CARD.md").read_text()
    steps = {step["name"]: step for step in lineage["steps"]}
    assert steps["vae-anime64-refine64-z256"]["shipped_as"] == "vae-anime64-best"
    metrics = json.loads((CHECKPOINTS / "vae-anime64-best" / "metrics.json").read_text())
    assert steps["vae-anime64-refine64-z256"]["evaluation"]["generation_fitted_prior"]["fid"] == \
        metrics["evaluation"]["generation_fitted_prior"]["fid"]  # the last step is the shipped weights
    # Every step that is not shipped is gone from checkpoints/ and kept as a history row.
    gone = {name for name, step in steps.items() if not step["shipped_as"]}
    assert gone == set(superseded(CHECKPOINTS)) and not gone & set(FOUND) and len(gone) == 4
    assert all(step["command"].startswith("python -m trainer train --preset ") for step in steps.values())


@pytest.mark.parametrize("name", FOUND)
def test_shipped_folder_loads_and_decodes_a_face(name):
    folder = CHECKPOINTS / name
    model = load_model(folder)
    config = model.config
    with torch.no_grad():
        face = model.sample(1, generator=torch.Generator().manual_seed(42))
    assert face.shape == (1, config.image_channels, config.image_size, config.image_size)
    assert torch.isfinite(face).all() and 0 <= face.min() and face.max() <= 1 and face.std() > 0.02
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    # Every shipped byte stays in git history: ~23 MB of fp16 weights plus a 256-d model's atlas (fp16 μ of 58k faces)
    # is the most one folder may hold.
    assert size < 56 * 2**20, f"{name} is {size / 2**20:.1f} MB"
    for document in ("metrics.json", "MODEL_CARD.md", "samples.png", "evolution.png", "loss_curves.png"):
        assert (folder / document).is_file(), document
    assert not list(folder.glob("*.pt")) and not list(folder.glob("*.pkl"))


@pytest.mark.parametrize("name", FOUND)
def test_shipped_atlas_is_fresh_and_complete(name):
    atlas = load_atlas(CHECKPOINTS / name)
    model = load_model(CHECKPOINTS / name)
    assert atlas.mu.shape[1] == model.latent_dim and len(atlas) > 1000
    assert all(np.isfinite(atlas.maps[m]).all() for m in ("umap", "tsne", "pca"))
    assert len(atlas.direction_names) > 0
    metrics = json.loads((CHECKPOINTS / name / "metrics.json").read_text())
    assert metrics["epochs"] >= 1 and metrics["test"]


@pytest.mark.parametrize("name", [n for n in FOUND if (CHECKPOINTS / n / PRIOR_NAME).is_file()])
def test_a_shipped_latent_prior_is_fresh_and_decodes_to_faces(name):
    prior = load_latent_prior(CHECKPOINTS / name)  # refuses one fitted to other weights
    model = load_model(CHECKPOINTS / name)
    with torch.no_grad():
        faces = model.decode(prior.sample(4, torch.Generator().manual_seed(0)))
    assert torch.isfinite(faces).all() and faces.std() > 0.02
    assert prior.manifest["test_log_density"] > prior.manifest["test_log_density_standard_normal"]


@pytest.mark.parametrize("name", FOUND)
def test_a_shipped_evaluation_describes_the_shipped_weights(name):
    from trainer.metrics.report import evaluation_section
    from trainer.models.checkpoint import sha256_of_file

    metrics = json.loads((CHECKPOINTS / name / "metrics.json").read_text())
    if "evaluation" not in metrics:
        pytest.skip(f"{name} has not been evaluated yet")
    evaluation = metrics["evaluation"]
    assert evaluation["weights_sha256"] == sha256_of_file(CHECKPOINTS / name / "model.safetensors")
    assert evaluation["inception_score"]["available"] is False
    card = (CHECKPOINTS / name / "MODEL_CARD.md").read_text()
    assert evaluation_section(evaluation) in card, "the card's Evaluation section is not what metrics.json says"


def test_the_readme_results_table_matches_the_shipped_metrics():
    from trainer.cli import results_table_of

    readme = (CHECKPOINTS.parent / "README.md").read_text()
    assert results_table_of(CHECKPOINTS) in readme, "refresh the README with: python -m trainer results"
