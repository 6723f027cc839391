"""The fitted latent prior (Ghosh et al. 2020): fitting, sampling, the file format and its refusals, the CLI."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.errors import CheckpointError, RequestError
from explorer.service import Explorer
from trainer.cli import main
from trainer.embed.prior import fit_latent_prior
from trainer.models.latent_prior import PRIOR_NAME, LatentPrior, LatentPriorError, load_latent_prior
from webui.wording import results_markdown, summary_markdown


def two_clusters(count: int, seed: int) -> np.ndarray:
    """Codes in 4-D: 75 % around (+3, 0, 0, 0), 25 % around (−3, 0, 0, 0), thin in the last two dimensions
    (as a VAE's inactive dimensions are): far from N(0, I)."""
    rng = np.random.default_rng(seed)
    upper = rng.random(count) < 0.75
    codes = rng.standard_normal((count, 4)) * np.array([0.3, 1.0, 0.05, 0.05])
    codes[:, 0] += np.where(upper, 3.0, -3.0)
    return codes.astype(np.float32)


def test_the_fitted_mixture_finds_where_the_codes_are():
    prior = fit_latent_prior(two_clusters(2000, 0), two_clusters(500, 1), components=2)
    z = prior.sample(4000, torch.Generator().manual_seed(0)).numpy()
    assert abs((z[:, 0] > 0).mean() - 0.75) < 0.03  # the mixing weights
    assert np.allclose(sorted(prior.means[:, 0]), [-3, 3], atol=0.1)
    assert np.allclose(z[:, 2:].std(0), 0.05, rtol=0.15)  # the thin dimensions stay thin
    assert not (np.abs(z[:, 0]) < 1.5).any()  # nothing drawn in the empty middle that N(0, I) favours
    m = prior.manifest
    assert m["converged"] and m["components"] == 2 and m["train_codes"] == 2000 and m["test_codes"] == 500
    assert m["test_log_density"] > m["test_log_density_standard_normal"] + 5
    # Seeded: the same generator seed gives the same latents; the temperature shrinks the spread.
    again = prior.sample(4000, torch.Generator().manual_seed(0)).numpy()
    assert np.array_equal(z, again)
    cooler = prior.sample(4000, torch.Generator().manual_seed(0), temperature=0.5).numpy()
    assert np.allclose(cooler[:, 1].std(), 0.5 * z[:, 1].std(), rtol=0.05)


def test_too_few_codes_or_components_are_refused():
    with pytest.raises(LatentPriorError, match="too few"):
        fit_latent_prior(two_clusters(3, 0), two_clusters(3, 1), components=2)
    with pytest.raises(LatentPriorError, match="at least 1"):
        fit_latent_prior(two_clusters(100, 0), two_clusters(10, 1), components=0)


@pytest.fixture
def vae_folder(tiny_models, tmp_path):
    """A copy of the shared tiny VAE (trained, embedded: its embed step fitted the prior), free to damage."""
    folder = tmp_path / "models" / "tiny-vae"
    shutil.copytree(tiny_models / "tiny-vae", folder)
    return folder


def test_embed_writes_a_prior_that_loads_and_round_trips(vae_folder):
    prior = load_latent_prior(vae_folder)
    assert prior.latent_dim == 16 and prior.manifest["components"] == 10
    copy = vae_folder.parent / "copy"
    shutil.copytree(vae_folder, copy)
    prior.save(copy)
    reloaded = load_latent_prior(copy)
    seed = torch.Generator().manual_seed(3)
    assert torch.equal(prior.sample(5, torch.Generator().manual_seed(3)), reloaded.sample(5, seed))
    assert reloaded.manifest == prior.manifest


def test_a_missing_stale_malformed_or_corrupt_prior_is_refused(vae_folder):
    prior = load_latent_prior(vae_folder)
    path = vae_folder / PRIOR_NAME
    path.unlink()
    with pytest.raises(LatentPriorError, match="fit-prior"):
        load_latent_prior(vae_folder)
    LatentPrior(prior.weights, prior.means, prior.cholesky, {**prior.manifest, "weights_sha256": "0" * 64}
                ).save(vae_folder)
    with pytest.raises(LatentPriorError, match="stale"):
        load_latent_prior(vae_folder)
    LatentPrior(prior.weights * 2, prior.means, prior.cholesky, prior.manifest).save(vae_folder)
    with pytest.raises(LatentPriorError, match="malformed"):
        load_latent_prior(vae_folder)
    LatentPrior(prior.weights, prior.means[:, :3], prior.cholesky, prior.manifest).save(vae_folder)
    with pytest.raises(LatentPriorError, match="malformed"):
        load_latent_prior(vae_folder)
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a safetensors header")
    with pytest.raises(LatentPriorError, match="cannot read"):
        load_latent_prior(vae_folder)


def test_fit_prior_and_sample_from_it_on_the_command_line(vae_folder, tmp_path, capsys):
    (vae_folder / PRIOR_NAME).unlink()
    assert main(["sample", "--checkpoint", str(vae_folder), "--out", str(tmp_path / "s.png"), "--prior", "fitted"]) == 2
    assert "fit-prior" in capsys.readouterr().err
    assert main(["fit-prior", "--checkpoint", str(vae_folder), "--components", "3"]) == 0
    assert load_latent_prior(vae_folder).manifest["components"] == 3
    assert main(["sample", "--checkpoint", str(vae_folder), "--out", str(tmp_path / "s.png"), "--prior", "fitted",
                 "--count", "8"]) == 0
    assert Image.open(tmp_path / "s.png").size[0] > 16
    capsys.readouterr()
    assert main(["fit-prior", "--checkpoint", str(vae_folder), "--components", "0"]) == 2
    assert main(["fit-prior", "--checkpoint", str(tmp_path / "nowhere")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("error:") for line in errors)


def test_the_cards_samples_are_drawn_from_the_fitted_prior_as_the_app_samples(vae_folder, tmp_path):
    """samples.png is the first picture of a model a person sees: from the fitted prior, not N(0, I)."""
    count = json.loads((vae_folder / "config.json").read_text())["training"]["train_config"]["sample_count"]
    assert main(["fit-prior", "--checkpoint", str(vae_folder), "--components", "3"]) == 0
    for prior in ("fitted", "normal"):
        assert main(["sample", "--checkpoint", str(vae_folder), "--out", str(tmp_path / f"{prior}.png"),
                     "--prior", prior, "--count", str(count), "--seed", "0"]) == 0
    card = np.asarray(Image.open(vae_folder / "samples.png"))
    assert np.array_equal(card, np.asarray(Image.open(tmp_path / "fitted.png")))
    assert not np.array_equal(card, np.asarray(Image.open(tmp_path / "normal.png")))


def test_a_gan_has_no_fitted_prior(tmp_path, capsys):
    assert main(["train", "--preset", "dcgan-tiny", "--data", "synthetic:64", "--epochs", "1", "--out",
                 str(tmp_path / "run"), "--no-cache"]) == 0
    assert main(["export", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "gan")]) == 0
    capsys.readouterr()
    assert main(["fit-prior", "--checkpoint", str(tmp_path / "gan")]) == 2
    assert "not a VAE" in capsys.readouterr().err


def test_the_explorer_samples_from_the_fitted_prior(vae_folder):
    explorer = Explorer(vae_folder.parent, data=[])
    assert explorer.priors("tiny-vae") == ["normal", "fitted"]
    faces, latents, captions = explorer.samples("tiny-vae", 5, 6, prior="fitted")
    assert faces.shape == (6, 16, 16, 3) and "fitted prior" in captions[0]
    # Sample i of a seed is one latent, whatever the count, and differs from the N(0, I) draw.
    assert np.array_equal(explorer.sample_latents("tiny-vae", 5, 2, prior="fitted"), latents[:2])
    assert not np.allclose(explorer.sample_latents("tiny-vae", 5, 6, prior="normal"), latents)
    # Naming no prior draws from the fitted one, here and for the slider face: the faces a user sees first.
    assert explorer.default_prior("tiny-vae") == "fitted"
    assert np.array_equal(explorer.sample_latents("tiny-vae", 5, 6), latents)
    assert np.array_equal(explorer.random_base("tiny-vae", 5), explorer.model("tiny-vae").random_latent(5, 1.0, "fitted"))
    # The fitted draws sit where the encoded faces are: nearer the atlas than N(0, I) draws are.
    model = explorer.model("tiny-vae")
    nearest = lambda zs: np.mean([model.neighbours(z, 1)[1][0] for z in zs])  # noqa: E731
    assert nearest(explorer.sample_latents("tiny-vae", 9, 32, prior="fitted")) < nearest(
        explorer.sample_latents("tiny-vae", 9, 32, prior="normal"))
    with pytest.raises(RequestError, match="unknown prior"):
        explorer.samples("tiny-vae", 5, 6, prior="uniform")
    (vae_folder / PRIOR_NAME).unlink()
    fresh = Explorer(vae_folder.parent, data=[])
    assert fresh.priors("tiny-vae") == ["normal"] and fresh.default_prior("tiny-vae") == "normal"
    with pytest.raises(CheckpointError, match="no fitted latent prior"):
        fresh.samples("tiny-vae", 5, 6, prior="fitted")


def test_evaluate_measures_the_fitted_prior_samples_too(tiny_models):
    evaluation = json.loads((tiny_models / "tiny-vae" / "metrics.json").read_text())["evaluation"]
    fitted, plain = evaluation["generation_fitted_prior"], evaluation["generation"]
    assert fitted["sampling"].startswith("z ~ fitted latent prior") and plain["sampling"].startswith("z ~ N(0, I)")
    assert fitted["fid"] > 0 and fitted["fid"] != plain["fid"] and fitted["samples"] == plain["samples"]
    card = (tiny_models / "tiny-vae" / "MODEL_CARD.md").read_text()
    assert f"| FID, fitted prior | {fitted['fid']:.2f} |" in card
    explorer = Explorer(tiny_models, data=[])
    assert f"| `tiny-vae (fitted prior)` | {fitted['fid']:.1f} |" in results_markdown(explorer.results())
    assert f"from the fitted prior: FID {fitted['fid']:.1f}" in summary_markdown(explorer.summary("tiny-vae"))
    [cool] = evaluation["temperature_sweep"]  # --temperatures 0.7: drawn from the fitted prior, its spread scaled
    assert cool["sampling"].startswith("z ~ fitted latent prior") and "temperature 0.7" in cool["sampling"]
    assert cool["fid"] != fitted["fid"] and cool["samples"] == fitted["samples"]
    assert f"| FID / precision / recall at temperature 0.7 (fitted prior) | {cool['fid']:.2f} /" in card
    assert (f"Sampling temperature: T 0.7: FID {cool['fid']:.1f}, precision {cool['precision']:.3f}, recall "
            f"{cool['recall']:.3f} (fitted prior)") in summary_markdown(explorer.summary("tiny-vae"))
