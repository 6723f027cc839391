"""Errors tell the truth: what a user caused is its one line; a bug of ours is logged and said to be ours."""

import logging

import httpx
import pytest
from gradio_client import Client

SLIDERS = 16


def test_exporting_before_any_model_is_chosen_says_so(matrix_app):
    _, url = matrix_app
    client = Client(url, verbose=False)  # a fresh session: no model chosen, so no slider face yet
    with pytest.raises(Exception, match="there is no face yet: choose a model first"):
        client.predict("tiny-vae", *[0.0] * SLIDERS, api_name="/export_latent")
    with pytest.raises(Exception, match="there is no face yet: choose a model first"):
        client.predict("tiny-vae", 1, 1.0, *[0.0] * SLIDERS, api_name="/share_link")


def test_a_link_for_another_models_latent_names_the_mismatch(matrix_app):
    _, url = matrix_app
    client = Client(url, verbose=False)
    client.predict("vae-fashion28", 42, 1.0, api_name="/select_model")  # a 32-d slider face
    with pytest.raises(Exception, match="the latent has 32 values; this model needs 16"):
        client.predict("tiny-vae", 1, 1.0, *[0.0] * SLIDERS, api_name="/share_link")


def test_an_internal_bug_is_logged_and_not_blamed_on_the_user(matrix_app, monkeypatch, caplog):
    app, url = matrix_app
    client = Client(url, verbose=False)
    client.predict("tiny-vae", 42, 1.0, api_name="/select_model")

    def broken(*args, **kwargs):  # a bug of ours deep in the core, of the type user errors once shared
        raise ValueError("operands could not be broadcast together with shapes (16,) (3,)")

    monkeypatch.setattr(app.explorer, "traversal_image", broken)
    monkeypatch.setattr(app.explorer, "face", broken)
    with caplog.at_level(logging.ERROR, logger="explorer"):
        with pytest.raises(Exception) as raised:
            client.predict("tiny-vae", 7, *[0.0] * SLIDERS, api_name="/traversal")
        message = str(raised.value)
        assert "internal error (ref " in message and "not caused by your input" in message
        assert "broadcast" not in message  # the user is not shown numpy's words as if they were theirs
        reference = message.split("ref ")[1].split(")")[0]
        # The face route, the page's hottest path, says the same with a 500 (not a 400 "bad request").
        face = httpx.get(url + "face.png", params={"model": "tiny-vae", "base": "A" * 86, "v": ""}, timeout=30)
        assert face.status_code == 500 and "internal error (ref " in face.text
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "broadcast" in str(logged[0].exc_info[1])


def test_a_map_click_made_on_another_models_map_is_refused(matrix_app):
    """In the moment of a model switch the page may still show the old map: a click there must not load the
    new model's point of the same index (the hover named one face, the click loaded another)."""
    import gradio as gr

    app, _ = matrix_app
    click = gr.SelectData(None, {"index": 3, "value": {"kind": "point", "model": "vae-fashion28"}})
    with pytest.raises(gr.Error, match="that click was on the map of vae-fashion28; wait for the map of tiny-vae"):
        app.maps.select("tiny-vae", click)
    here = gr.SelectData(None, {"index": 3, "value": {"kind": "point", "model": "tiny-vae"}})
    assert "Loaded into the sliders" in app.maps.select("tiny-vae", here)[-1]
