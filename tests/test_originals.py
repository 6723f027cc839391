"""Originals beside decodings: the app given a local copy of the data finds each map point's own image."""

import shutil

import numpy as np
import pytest

from explorer.errors import RequestError
from explorer.originals import DataPathError, LocalOriginals
from explorer.service import Explorer
from trainer.cli import main
from trainer.data import load_image_data


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_an_id_leads_back_to_the_image_the_trainer_read(kind, face_folder, face_zip):
    spec = str(face_folder if kind == "folder" else face_zip)
    data = load_image_data([spec], 32, 3)
    originals = LocalOriginals([spec])
    for i in (0, 7, len(data) - 1):
        found = originals.original(data.ids[i], 32, 3)
        np.testing.assert_array_equal(found, data.images[i].numpy().transpose(1, 2, 0))
    assert originals.original("faces/404", 32, 3) is None  # not in the data
    assert originals.original("elsewhere/0", 32, 3) is None  # another source
    assert originals.original(f"{data.ids[0].split('/')[0]}/broken", 32, 3) is None  # unreadable file


def test_synthetic_originals_are_drawn_again_from_their_index():
    data = load_image_data(["synthetic:12"], 16, 3)
    originals = LocalOriginals(["synthetic"])
    for i in (0, 11):
        np.testing.assert_array_equal(originals.original(data.ids[i], 16, 3),
                                      data.images[i].numpy().transpose(1, 2, 0))
    assert originals.original("synthetic/x", 16, 3) is None


def test_a_wrong_data_path_is_one_clear_error(tmp_path, monkeypatch, capsys):
    with pytest.raises(DataPathError, match="not a folder, a .zip"):
        LocalOriginals([str(tmp_path / "missing")])
    monkeypatch.setenv("ANIME_EXPLORER_DATA", str(tmp_path / "missing"))
    explorer = Explorer(tmp_path)  # from the environment: reported, and the app still serves
    assert not explorer.originals and "ANIME_EXPLORER_DATA ignored" in capsys.readouterr().err


def test_hover_shows_the_original_beside_the_decoding(tiny_models, face_zip, tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(tiny_models / "tiny-vae", root / "tiny-vae")
    assert main(["embed", "--checkpoint", str(root / "tiny-vae"), "--data", str(face_zip), "--maps", "pca",
                 "--no-cache", "--min-tag-count", "5"]) == 0
    with_data, without = Explorer(root, data=[str(face_zip)]), Explorer(root, data=[])
    data = load_image_data([str(face_zip)], 16, 3)  # the tiny VAE's size
    original = with_data.original("tiny-vae", 3)
    row = list(data.ids).index(with_data.model("tiny-vae").atlas.ids[3])
    np.testing.assert_array_equal(original, data.images[row].numpy().transpose(1, 2, 0))
    assert without.original("tiny-vae", 3) is None
    with pytest.raises(RequestError, match="not on this map"):
        with_data.original("tiny-vae", 10_000)

    from webui.gradio_app.latent_map import hover_server  # the hover handler the browser calls

    hovered = hover_server(with_data)({"model": "tiny-vae", "index": 3})
    assert hovered["image"].startswith("data:image/png") and hovered["original"].startswith("data:image/png")
    assert hover_server(without)({"model": "tiny-vae", "index": 3})["original"] == ""
