"""Evaluation metrics: the FID network used for real on small synthetic sets, and each figure's behaviour."""

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from stand_in_features import stand_in_inception
from trainer.cli import main
from trainer.data.synthetic import synthetic_faces
from trainer.evaluate import Reference, generate, quantised, reconstruction_realism
from trainer.models import ConvVAE, VAEConfig
from trainer.metrics import disentanglement as dis
from trainer.metrics.errors import MetricsError
from trainer.metrics.feature_cache import cached_features
from trainer.metrics.generation import frechet_distance, kernel_distance, precision_recall_density_coverage
from trainer.metrics.inception import FEATURE_DIM, InceptionFeatures
from trainer.metrics.report import evaluation_section, replace_card_section, results_table
from trainer.models.records import results_rows

COUNT = 64


@pytest.fixture(scope="module")
def extractor():
    return InceptionFeatures("cpu", batch_size=32)


@pytest.fixture(scope="module")
def faces() -> torch.Tensor:
    """(2·COUNT, 3, 64, 64) uint8 synthetic faces."""
    images = [np.asarray(image) for _, image, _, _ in synthetic_faces(2 * COUNT, 64, seed=3)]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def noisy(images: torch.Tensor, sigma: float) -> torch.Tensor:
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(1)) * 255 * sigma
    return (images.float() + noise).clamp(0, 255).round().to(torch.uint8)


@pytest.fixture(scope="module")
def features(extractor, faces) -> dict[str, np.ndarray]:
    half = faces[:COUNT]
    out = {"a": extractor(half), "b": extractor(faces[COUNT:])}
    for sigma in (0.05, 0.15, 0.4):
        out[sigma] = extractor(noisy(half, sigma))
    out["noise"] = extractor(torch.randint(0, 256, half.shape, generator=torch.Generator().manual_seed(2),
                                           dtype=torch.uint8))
    return out


def test_inception_gives_pool3_features(features, extractor):
    assert features["a"].shape == (COUNT, FEATURE_DIM)
    assert (features["a"] >= 0).all()  # pool3 averages ReLU outputs
    gray = extractor(torch.full((2, 1, 28, 28), 128, dtype=torch.uint8))  # grayscale is repeated to RGB
    rgb = extractor(torch.full((2, 3, 28, 28), 128, dtype=torch.uint8))
    np.testing.assert_allclose(gray, rgb, rtol=1e-5, atol=1e-5)


def test_fid_is_zero_against_itself_and_grows_with_noise(features):
    assert abs(frechet_distance(features["a"], features["a"])) < 1e-3
    by_noise = [frechet_distance(features["a"], features[s]) for s in (0.05, 0.15, 0.4)]
    assert by_noise == sorted(by_noise) and by_noise[0] > 1.0
    halves, to_noise = frechet_distance(features["a"], features["b"]), frechet_distance(features["a"], features["noise"])
    assert halves < 0.5 * to_noise


def test_kid_near_zero_for_two_halves_of_one_set(features):
    halves = kernel_distance(features["a"], features["b"], subset_size=COUNT)
    to_noise = kernel_distance(features["a"], features["noise"], subset_size=COUNT)
    assert abs(halves["mean"]) < 0.1 * to_noise["mean"]
    assert to_noise["mean"] > 0.05


def test_precision_recall_of_a_set_against_itself_is_one(features):
    same = precision_recall_density_coverage(features["a"], features["a"])
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = precision_recall_density_coverage(features["a"], features["noise"])
    assert far["precision"] < 0.2 and far["recall"] < 0.2


def test_metrics_reject_mismatched_or_tiny_sets():
    with pytest.raises(MetricsError, match="same D"):
        frechet_distance(np.zeros((10, 4)), np.zeros((10, 5)))
    with pytest.raises(MetricsError, match="at least"):
        precision_recall_density_coverage(np.zeros((3, 4)), np.zeros((3, 4)))


def test_reference_features_are_cached_by_pixels(extractor, faces, tmp_path):
    first, hit = cached_features(extractor, faces[:4], tmp_path)
    again, hit_again = cached_features(extractor, faces[:4], tmp_path)
    other, hit_other = cached_features(extractor, faces[4:8], tmp_path)
    assert (hit, hit_again, hit_other) == (False, True, False)
    np.testing.assert_array_equal(first, again)
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_reconstruction_fid_measures_the_decoder_against_the_real_reference(extractor, faces):
    """A perfect autoencoder scores what real test faces score against real training faces; a decoder that
    adds noise scores worse, and more noise worse still."""
    data = SimpleNamespace(images=faces, is_test=np.arange(len(faces)) % 2 == 1)
    identity = lambda x: (x, None)  # noqa: E731  (encode returns (μ, log σ²))
    reference, figures = Reference.chosen(data, extractor, "train", COUNT, seed=0, feature_cache=None), {}
    for sigma in (0.0, 0.1, 0.3):
        decode = lambda z, s=sigma: z + s * torch.randn(z.shape, generator=torch.Generator().manual_seed(0))  # noqa: E731
        figures[sigma] = reconstruction_realism(identity, decode, data, reference, extractor, num_samples=COUNT,
                                                seed=0, device=torch.device("cpu"), feature_cache=None)
    real = frechet_distance(extractor(faces[~data.is_test]), extractor(faces[data.is_test]))
    assert figures[0.0]["fid"] == pytest.approx(real, rel=1e-3) and figures[0.0]["images"] == COUNT
    assert figures[0.0]["fid"] < figures[0.1]["fid"] < figures[0.3]["fid"]
    assert figures[0.0]["kid"]["mean"] < figures[0.3]["kid"]["mean"]


def test_probe_and_mig_find_a_factor_held_by_one_dimension():
    rng = np.random.default_rng(0)
    labels = rng.choice(["red", "green", "blue"], 600)
    codes = dis.label_codes(labels)
    latents = rng.normal(size=(600, 8))
    latents[:, 3] += 3 * codes  # dimension 3 alone carries the label
    is_test = np.arange(600) % 5 == 0
    probe = dis.categorical_probe(latents, labels, is_test)
    assert probe["accuracy"] > 0.9 > 0.5 > probe["chance"]
    mig = dis.mutual_information_gap(latents, {"colour": codes})
    assert mig["score"] > 0.3
    shuffled = dis.mutual_information_gap(latents, {"colour": rng.permutation(codes)})
    assert shuffled["score"] < 0.1


def test_card_section_is_replaced_not_repeated():
    card = "# m\n\n## Figures\n\nx\n\n## Reproduce\n\ncmd\n"
    once = replace_card_section(card, "## Evaluation\n\nfirst\n")
    twice = replace_card_section(once, "## Evaluation\n\nsecond\n")
    assert twice.count("## Evaluation") == 1 and "second" in twice and "first" not in twice
    assert twice.index("## Evaluation") < twice.index("## Reproduce")


@pytest.mark.inception
def test_evaluate_cli_end_to_end(tmp_path):
    """Train a tiny VAE on synthetic faces, evaluate it, and find every figure in metrics.json and the card."""
    data = "synthetic:400"
    assert main(["train", "--preset", "vae-tiny", "--data", data, "--epochs", "3", "--out", str(tmp_path / "run"),
                 "--no-cache"]) == 0
    assert main(["export", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "m")]) == 0
    args = ["evaluate", "--checkpoint", str(tmp_path / "m"), "--data", data, "--num-samples", "24",
            "--feature-cache", str(tmp_path / "features"), "--cache-dir", str(tmp_path / "data"),
            "--temperatures", "0.5"]
    assert main(args) == 0
    evaluation = json.loads((tmp_path / "m" / "metrics.json").read_text())["evaluation"]
    generation = evaluation["generation"]
    assert generation["samples"] == 24 and generation["reference"]["images"] == 24
    assert generation["fid"] > 0 and 0 <= generation["precision"] <= 1 and 0 <= generation["recall"] <= 1
    assert evaluation["inception_score"]["available"] is False and evaluation["inception_score"]["reason"]
    reconstruction = evaluation["reconstruction"]
    assert reconstruction["images"] > 50 and 0 < reconstruction["ssim"] <= 1 and reconstruction["psnr"] > 10
    realism = reconstruction["realism"]
    assert realism["images"] == 24 and realism["split"] == "test" and realism["fid"] > 0
    probes = evaluation["disentanglement"]["probes"]
    assert probes["hair"]["accuracy"] > probes["hair"]["chance"] + 0.2  # hair hue is learned
    assert probes["factor: face_size"]["r2"] > 0.3
    assert evaluation["disentanglement"]["mig"]["per_factor"].keys() >= {"hair", "eyes", "factor: hair_hue"}
    card = (tmp_path / "m" / "MODEL_CARD.md").read_text()
    assert "## Evaluation" in card and f"| FID | {generation['fid']:.2f} |" in card
    assert f"test images against the same real images) | {realism['fid']:.2f} /" in card
    assert evaluation_section(evaluation) in card  # the card is what metrics.json says, attributes in its order
    [cool] = evaluation["temperature_sweep"]  # the truncation trade-off: z's spread halved, its own samples
    assert cool["temperature"] == 0.5 and "z ~ N(0, I), seed 1, temperature 0.5" in cool["sampling"]
    assert cool["fid"] > 0 and cool["fid"] != pytest.approx(generation["fid"]) and cool["samples"] == 24
    assert f"| FID / precision / recall at temperature 0.5 (N(0, I)) | {cool['fid']:.2f} /" in card
    assert evaluation["command"].endswith("--temperatures 0.5")
    cached = sorted((tmp_path / "features").glob("*.npy"))
    assert len(cached) == 4  # the reference faces, the samples, the samples at T = 0.5 and the reconstructions
    assert main(args) == 0  # again: every feature set now comes from the cache (seeded samples, same weights)
    assert sorted((tmp_path / "features").glob("*.npy")) == cached
    again = json.loads((tmp_path / "m" / "metrics.json").read_text())["evaluation"]["generation"]
    assert again["reference"]["features_cached"] and again["fid"] == pytest.approx(generation["fid"])
    assert (tmp_path / "m" / "MODEL_CARD.md").read_text().count("## Evaluation") == 1
    table = results_table(results_rows({"m": json.loads((tmp_path / "m" / "metrics.json").read_text())}))
    assert f"| `m` | {generation['fid']:.1f} |" in table and "seed 002 DCGAN" in table
    assert f"| {reconstruction['ssim']:.3f} | {realism['fid']:.1f} | n/a |" in table


def test_an_evaluation_computes_the_real_reference_features_once(tiny_models, tmp_path):
    """Every FID of one run (samples from N(0, I) and from the fitted prior, the reconstructions) compares
    against the same real images. Without a feature cache, each figure used to compute their features again:
    3× here, and on a 10k-image reference ≈ 15 min each time."""
    shutil.copytree(tiny_models / "tiny-vae", tmp_path / "m")
    with stand_in_inception() as passes:
        assert main(["evaluate", "--checkpoint", str(tmp_path / "m"), "--data", "synthetic:200", "--num-samples",
                     "16", "--no-cache"]) == 0
    assert sorted(passes) == [("reconstruction features", 16), ("reference features", 16),
                              ("sample features", 16), ("sample features", 16)]
    evaluation = json.loads((tmp_path / "m" / "metrics.json").read_text())["evaluation"]
    assert evaluation["generation"]["reference"] == evaluation["generation_fitted_prior"]["reference"]
    assert evaluation["generation"]["reference"]["images"] == evaluation["reconstruction"]["realism"]["images"] == 16


def test_evaluate_rejects_nonsense_arguments(tmp_path, capsys):
    assert main(["evaluate", "--checkpoint", str(tmp_path / "none"), "--data", "synthetic:20"]) == 2
    assert "error:" in capsys.readouterr().err
    for temperature in ("0", "2.5", "-1"):
        assert main(["evaluate", "--checkpoint", str(tmp_path / "none"), "--data", "synthetic:40",
                     "--temperatures", "1", temperature]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--temperatures must lie in (0, 2]" in err


def test_generated_samples_follow_the_temperature():
    """T scales z itself, as the app's slider does: the same seed at T = 0.5 decodes half of its T = 1 codes."""
    model = ConvVAE(VAEConfig(image_size=16, latent_dim=8, hidden_channels=(8, 16), dense_dim=32)).eval()
    z = torch.randn(6, 8, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = [quantised(model.decode(z * t)) for t in (1.0, 0.5)]
    assert torch.equal(generate(model, 6, seed=5, device=torch.device("cpu")), expected[0])
    assert torch.equal(generate(model, 6, seed=5, device=torch.device("cpu"), temperature=0.5), expected[1])
    assert not torch.equal(expected[0], expected[1])
