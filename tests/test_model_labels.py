"""The model picker says what each model is, names its FID and stars the lowest of its kind on its data."""

import json
from pathlib import Path

from explorer.model_labels import model_labels
from explorer.service import Explorer

ANIME = {"sources": [{"name": "anime-faces-tagged-64"}, {"name": "anime-faces-kaggle-64"}]}
FASHION = {"sources": [{"name": "fashion-mnist"}]}


def evaluated(fid: float, data: dict, fitted: float | None = None) -> dict:
    evaluation = {"generation": {"fid": fid}, "data": data}
    if fitted is not None:
        evaluation["generation_fitted_prior"] = {"fid": fitted}
    return {"evaluation": evaluation}


VAE, DCGAN = {"model_type": "conv_vae"}, {"model_type": "dcgan"}


def test_each_label_carries_the_lower_fid_and_says_when_it_is_the_fitted_priors():
    labels = model_labels({"plain": (VAE, evaluated(120.0, ANIME)),
                           "fitted": (VAE, evaluated(140.0, ANIME, fitted=61.25))})
    assert labels["plain"] == "plain — VAE · FID 120.0"
    assert labels["fitted"] == "fitted — VAE · FID 61.2 (fitted prior) ★ best VAE"


def test_the_star_compares_only_one_kind_on_one_data_set():
    labels = model_labels({
        "gan": (DCGAN, evaluated(40.0, ANIME)),           # lower than every VAE, but another kind
        "vae-a": (VAE, evaluated(90.0, ANIME, fitted=80.0)),
        "vae-b": (VAE, evaluated(70.0, ANIME)),
        "fashion-a": (VAE, evaluated(50.0, FASHION)),     # lower than the anime VAEs, but other data
        "fashion-b": (VAE, evaluated(65.0, FASHION)),
    })
    assert labels["vae-b"].endswith("★ best VAE") and "★" not in labels["vae-a"]
    assert labels["fashion-a"].endswith("★ best VAE") and "★" not in labels["fashion-b"]
    assert labels["gan"] == "gan — DCGAN · FID 40.0"  # the only DCGAN: nothing to beat


def test_a_tie_for_lowest_stars_only_when_some_model_is_worse():
    tied = model_labels({"a": (VAE, evaluated(60.0, ANIME)), "b": (VAE, evaluated(60.0, ANIME))})
    assert "★" not in "".join(tied.values())
    labels = model_labels({"a": (VAE, evaluated(60.0, ANIME)), "b": (VAE, evaluated(60.0, ANIME)),
                           "c": (VAE, evaluated(75.0, ANIME))})
    assert labels["a"].endswith("★ best VAE") and labels["b"].endswith("★ best VAE") and "★" not in labels["c"]


def test_a_model_without_an_evaluation_keeps_its_bare_name():
    labels = model_labels({"new": (VAE, {}), "broken": ({}, {"evaluation": {"generation": {"fid": "nan?"}}}),
                           "old": (VAE, evaluated(100.0, ANIME))})
    assert labels == {"new": "new — VAE", "broken": "broken", "old": "old — VAE · FID 100.0"}


def test_the_explorer_reads_the_labels_from_each_folder_in_name_order(tmp_path):
    for name, config, metrics in [("b-vae", VAE, evaluated(75.5, ANIME)), ("a-vae", VAE, evaluated(80.0, ANIME))]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
        (tmp_path / name / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "c-corrupt").mkdir()
    (tmp_path / "c-corrupt" / "config.json").write_text("{not json")
    (tmp_path / "c-corrupt" / "metrics.json").write_text("[1, 2]")
    assert Explorer(tmp_path, data=[]).model_choices() == [
        ("a-vae — VAE · FID 80.0", "a-vae"), ("b-vae — VAE · FID 75.5 ★ best VAE", "b-vae"), ("c-corrupt", "c-corrupt")]


def test_a_model_the_catalog_does_not_list_says_what_it_is_from_its_config():
    config = {"model_type": "conv_vae", "config": {"image_size": 28, "image_channels": 1},
              "data": {"sources": [{"name": "fashion-mnist"}]}}
    assert model_labels({"mine": (config, {})}) == {"mine": "mine — VAE, 28×28 grey, trained on fashion-mnist"}
    assert model_labels({"mine": (config, {})}, {"mine": "my own garments"}) == {"mine": "mine — my own garments"}


def test_the_catalog_orders_the_picker_and_names_each_model(tmp_path):
    for name in ("a-vae", "b-gan", "c-mine"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(DCGAN if name == "b-gan" else VAE))
    (tmp_path / "catalog.json").write_text(json.dumps({"models": {"b-gan": "the GAN", "a-vae": "the VAE",
                                                                  "gone": "a folder no longer here"}}))
    # The catalog's first model is the one the app opens on; a folder it does not list comes after.
    assert Explorer(tmp_path, data=[]).model_choices() == [
        ("b-gan — the GAN", "b-gan"), ("a-vae — the VAE", "a-vae"), ("c-mine — VAE", "c-mine")]
    (tmp_path / "catalog.json").write_text("{broken")
    assert [name for _, name in Explorer(tmp_path, data=[]).model_choices()] == ["a-vae", "b-gan", "c-mine"]


def test_the_sentence_under_the_picker_comes_from_the_catalog(tmp_path):
    from explorer.model_labels import read_welcome

    shipped = read_welcome(Path(__file__).resolve().parents[1] / "checkpoints")
    assert shipped.startswith("Start with the best VAE")
    assert "FID" in read_welcome(tmp_path)  # no catalog: a sentence that fits any folder of models
    (tmp_path / "catalog.json").write_text(json.dumps({"welcome": "Try the GAN.", "models": {}}))
    assert read_welcome(tmp_path) == "Try the GAN."
