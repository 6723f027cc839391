import io

import numpy as np
import pytest
from PIL import Image

from explorer.errors import LatentInputError
from explorer.render import gif_bytes, grid, png_bytes
from explorer.share import PageState, latent_from_json, latent_to_json
from webui.wording import results_markdown, summary_markdown


def test_png_grid_and_gif():
    faces = np.random.default_rng(0).integers(0, 255, (5, 8, 8, 3), dtype=np.uint8)
    assert Image.open(io.BytesIO(png_bytes(faces[0], upscale=4))).size == (32, 32)
    canvas = grid(faces, columns=3, padding=2)
    assert canvas.shape == (2 * 10 + 2, 3 * 10 + 2, 3)
    assert np.array_equal(canvas[2:10, 12:20], faces[1]) and np.array_equal(canvas[12:20, 2:10], faces[3])
    gif = Image.open(io.BytesIO(gif_bytes(faces, upscale=1)))
    assert gif.is_animated and gif.n_frames == 8  # 5 there, 3 back
    gif.seek(2)
    assert np.array_equal(np.asarray(gif.convert("RGB")).shape, (8, 8, 3))


@pytest.mark.parametrize("channels", [3, 1])
def test_a_gif_plays_each_frame_close_to_the_model_and_back_again(channels):
    ramp = np.linspace(0, 255, 16)
    frames = np.stack([np.stack([np.add.outer(ramp * (1 - t), ramp * t) / 2] * channels, axis=-1)
                       for t in np.linspace(0, 1, 5)]).astype(np.uint8)  # (5, 16, 16, C): a smooth morph
    gif = Image.open(io.BytesIO(gif_bytes(frames, upscale=4)))
    assert gif.size == (64, 64) and gif.n_frames == 8
    for index, expected in enumerate([0, 1, 2, 3, 4, 3, 2, 1]):
        gif.seek(index)
        shown = np.asarray(gif.convert("RGB"), dtype=np.int16)[::4, ::4]
        error = np.abs(shown - frames[expected].astype(np.int16)).mean()
        assert error < (6 if channels == 3 else 0.5), (index, error)  # colour: one palette, close; grey: exact


def test_latent_json_round_trip_and_rejections():
    latent = np.linspace(-2, 2, 6).astype(np.float32)
    text = latent_to_json(latent, "vae-anime64")
    assert np.allclose(latent_from_json(text, 6, "vae-anime64"), latent)
    assert np.allclose(latent_from_json(text.encode(), 6), latent)
    assert np.allclose(latent_from_json("[1, 2, 3, 4, 5, 6]", 6), np.arange(1, 7))
    for bad, message in (("{oops", "not valid JSON"), ('{"x": 1}', "no 'latent'"), (text, "from model"),
                         ('{"latent": [1, 2]}', "needs 6"), (b"x" * (2 << 20), "1 MB")):
        with pytest.raises(LatentInputError, match=message):
            latent_from_json(bad, 6, "other-model" if bad is text else None)


def test_page_state_survives_a_url():
    state = PageState("vae-anime64", seed=7, temperature=0.8, sliders={"hair: blonde": 1.5}, latent=[0.1, -0.2])
    assert PageState.from_query("?" + state.to_query() + "&x=1") == state
    for bad in ("", "state=!!!", "state=" + "e30", PageState("m", temperature=9).to_query()):
        with pytest.raises(LatentInputError):
            PageState.from_query(bad)


def test_the_results_table_and_summary_carry_the_evaluation(tiny_models):
    import json

    from explorer.service import Explorer

    explorer = Explorer(tiny_models)
    evaluation = json.loads((tiny_models / "tiny-vae" / "metrics.json").read_text())["evaluation"]
    fid = evaluation["generation"]["fid"]
    # The core gives the figures as numbers; the words are the front ends' (webui.wording).
    assert explorer.summary("tiny-vae").generation.fid == fid and explorer.results()[0]["fid"] == fid
    assert f"| `tiny-vae` | {fid:.1f} |" in results_markdown(explorer.results())
    assert "seed 002 DCGAN (reference) | 45.3" in results_markdown(explorer.results())
    summary = summary_markdown(explorer.summary("tiny-vae"))
    assert f"FID {fid:.1f}" in summary and "Inception Score: not available" in summary
    rfid = evaluation["reconstruction"]["realism"]["fid"]
    assert f"rFID {rfid:.1f}" in summary  # named apart from the samples' FID
    psnr = json.loads((tiny_models / "tiny-vae" / "metrics.json").read_text())["test"]["test_psnr"]
    assert "Test split: MSE " in summary and f"PSNR {psnr:.2f} dB" in summary  # named, with units


def test_the_results_note_explains_a_missing_rfid_only_when_one_is_missing(tiny_models, tmp_path):
    import json
    import shutil

    from explorer.service import Explorer

    clause = "— where a model was evaluated before it was added"
    assert clause not in results_markdown(Explorer(tiny_models).results())  # the fixture's evaluation measures rFID
    shutil.copytree(tiny_models / "tiny-vae", tmp_path / "tiny-vae")
    path = tmp_path / "tiny-vae" / "metrics.json"
    metrics = json.loads(path.read_text())
    del metrics["evaluation"]["reconstruction"]["realism"]  # as an evaluation from before rFID existed
    path.write_text(json.dumps(metrics))
    results = results_markdown(Explorer(tmp_path).results())
    assert "| — | n/a |" in results and clause in results
