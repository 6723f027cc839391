"""``python -m trainer build``: images → an explorable model folder in one command, resumable, with one-line
refusals; and the apps offer a model built while they run (Refresh models).

The folder a build writes also goes through every view of both front ends in the shipped-model matrix
(``BUILT`` in test_every_model_gradio.py and test_every_model_streamlit.py)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.service import Explorer
from trainer.cli import main
from trainer.models.checkpoint import BUILDING_NAME

from app_fixtures import BUILT, build_args

ROOT = Path(__file__).resolve().parents[1]


def test_a_build_writes_a_folder_the_app_serves_and_says_how_to_open_it(built_model):
    folder, output = built_model
    for name in ("config.json", "model.safetensors", "atlas.npz", "latent_prior.safetensors", "MODEL_CARD.md",
                 "samples.png", "metrics.json"):
        assert (folder / name).is_file(), name
    assert not (folder / BUILDING_NAME).exists()
    assert re.search(r"estimate: (\d+ img/s measured here|one epoch took \d+ s here) → training ≈ .+; the build ≈ ", output)
    for stage in ("[1/3] train", "[2/3] export", "[3/3] embed"):
        assert stage in output
    summary = output[output.index("build finished:"):]
    assert re.search(r"train\s+\d+ s", summary) and re.search(r"figures\s+test MSE 0\.\d{4}, PSNR dB \d", summary)
    assert f"folder    {folder}" in summary and "Refresh models" in summary
    state = json.loads((folder.parents[1] / "runs" / "build" / BUILT / "build.json").read_text())
    assert sorted(state["stages"]) == ["embed", "export", "train"]
    explorer = Explorer(folder.parent)
    assert BUILT in explorer.model_names() and explorer.model(BUILT).has_fitted_prior


def test_running_a_finished_build_again_redoes_nothing_and_redo_redoes_from_that_stage(built_model, tmp_path,
                                                                                        capsys):
    out, runs = moved_build(built_model, tmp_path)
    weights, atlas = (out / "model.safetensors").stat().st_mtime_ns, (out / "atlas.npz").stat().st_mtime_ns
    capsys.readouterr()
    assert main(build_args(out, runs)) == 0
    said = capsys.readouterr().err
    assert all(f"{stage}: done earlier" in said for stage in ("[1/3] train", "[2/3] export", "[3/3] embed"))
    assert (out / "model.safetensors").stat().st_mtime_ns == weights
    assert main([*build_args(out, runs), "--redo", "embed"]) == 0
    said = capsys.readouterr().err
    assert "[2/3] export: done earlier" in said and "[3/3] embed: done earlier" not in said
    assert (out / "model.safetensors").stat().st_mtime_ns == weights
    assert (out / "atlas.npz").stat().st_mtime_ns != atlas


def moved_build(built_model, tmp_path) -> tuple[Path, Path]:
    """A copy of the built folder and its build state, free to change: (model folder, runs folder)."""
    folder, _ = built_model
    copy = tmp_path / "copy"
    shutil.copytree(folder.parents[1], copy, symlinks=True)
    out, runs = copy / "models" / BUILT, copy / "runs"
    state = runs / "build" / BUILT / "build.json"
    state.write_text(state.read_text().replace(str(folder), str(out)))  # the build, moved with its folders
    return out, runs


@pytest.mark.inception  # the FID network: make test-all
def test_evaluate_as_a_later_stage_adds_fid_and_the_summary_shows_it(built_model, tmp_path, capsys):
    out, runs = moved_build(built_model, tmp_path)
    capsys.readouterr()
    assert main([*build_args(out, runs), "--evaluate", "--eval-samples", "16"]) == 0
    said = capsys.readouterr()
    assert "[3/4] embed: done earlier" in said.err and "[4/4] evaluate: 16 samples" in said.err
    fid = json.loads((out / "metrics.json").read_text())["evaluation"]["generation"]["fid"]
    assert fid > 0 and f"FID {fid:.1f}" in said.out


@pytest.mark.slow  # a DCGAN and its inversion encoder: make test-all
def test_a_dcgan_build_adds_the_inversion_encoder_so_uploads_work(tmp_path, capsys):
    from trainer.data.synthetic import synthetic_faces

    out, runs = tmp_path / "models" / "my-gan", tmp_path / "runs"
    assert main(["build", "--data", "synthetic:100", "--preset", "dcgan-tiny", "--name", "my-gan", "--epochs", "2",
                 "--invert-steps", "60", "--maps", "pca", "--out", str(out), "--runs", str(runs), "--no-cache"]) == 0
    said = capsys.readouterr().err
    assert "[3/4] invert: the DCGAN's image → z encoder, 60 + 60 steps" in said and "[4/4] embed" in said
    # 80 training faces are 2 batches of 32: too few steps to time, so the probe timed one whole epoch.
    assert re.search(r"estimate: one epoch took \d+ s here → training ≈ ", said)
    _, face, _, _ = next(synthetic_faces(1, 64, seed=3))
    upload = tmp_path / "face.png"
    face.save(upload)
    result = Explorer(out.parent, data=[]).reconstruct("my-gan", upload.read_bytes())
    assert result.reconstruction.shape == (16, 16, 3) and np.isfinite(result.psnr)


def small_pngs(folder: Path, count: int, size: int, broken: int = 0) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), np.uint8)).save(folder / f"{i:04d}.png")
    for i in range(broken):
        (folder / f"broken-{i}.png").write_bytes(b"not an image")
    return folder


@pytest.mark.parametrize("case, expected", [
    ("too-few", r"only 60 readable images in .*: a build needs at least 100"),
    ("unreadable", r"only 40 readable images in .*: a build needs at least 100"),
    ("too-small", r"the images in .* are about 20 px; preset vae-anime64 draws 64×64: choose a preset of at most 40 px"),
    ("name", r"--name '\.\./x' must be letters"),
    ("exists", r"already exists: choose another --name"),
    ("no-data", r"data source not found: .*nowhere"),
])
def test_a_build_refuses_what_it_cannot_use_with_one_line(tmp_path, capsys, case, expected):
    out, runs = tmp_path / "models" / "mine", tmp_path / "runs"
    preset, data, name = "vae-tiny", [], "mine"
    if case == "too-few":
        data = [str(small_pngs(tmp_path / "few", 60, 32))]
    elif case == "unreadable":
        data = [str(small_pngs(tmp_path / "mixed", 40, 32, broken=80))]
    elif case == "too-small":
        preset, data = "vae-anime64", [str(small_pngs(tmp_path / "small", 120, 20))]
    elif case == "name":
        name = "../x"
    elif case == "exists":
        out.mkdir(parents=True)
        (out / "config.json").write_text("{}")
    elif case == "no-data":
        data = [str(tmp_path / "nowhere")]
    args = ["build", "--preset", preset, "--name", name, "--out", str(out), "--runs", str(runs), "--no-cache",
            "--no-estimate", *[f"--data={d}" for d in data or ["synthetic:300"]]]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert re.search(expected, err[-1]) and err[-1].startswith("error: "), err
    assert "Traceback" not in "\n".join(err)
    assert not (runs / "build" / name / "run").exists()  # refused before any training


def test_a_build_started_with_other_arguments_is_not_mixed_up(tmp_path, capsys):
    out, runs = tmp_path / "models" / "mine", tmp_path / "runs"
    state = runs / "build" / "mine" / "build.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"request": {"name": "mine", "preset": "vae-tiny", "data": ["synthetic:300"],
                                             "out": str(out), "epochs": 2}, "stages": {}}))
    assert main(["build", "--data", "synthetic:400", "--preset", "vae-tiny", "--name", "mine", "--out", str(out),
                 "--runs", str(runs), "--no-cache"]) == 2
    assert "was started with --data ['synthetic:300']: run it with the same arguments" in capsys.readouterr().err


def start_build(out: Path, runs: Path, epochs: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "trainer", *build_args(out, runs, epochs=epochs, data="synthetic:600"),
                             "--no-estimate"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def kill_when(process: subprocess.Popen, pattern: str) -> list[str]:
    """Read the build's log until a line matches, then kill it as a crash would (SIGKILL: no clean-up)."""
    seen = []
    for line in process.stderr:
        seen.append(line)
        if re.search(pattern, line):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            return seen
    process.wait(timeout=60)
    pytest.fail(f"the build ended before '{pattern}':\n{''.join(seen[-20:])}")


def test_a_build_killed_mid_training_goes_on_from_its_last_epoch(tmp_path, capsys):
    out, runs = tmp_path / "models" / "mine", tmp_path / "runs"
    kill_when(start_build(out, runs, epochs=5), r"(^|\r)epoch 2/5  \S")  # the log line, not the bar
    assert not Explorer(out.parent).model_names()  # nothing offered yet
    assert main([*build_args(out, runs, epochs=5, data="synthetic:600"), "--no-estimate"]) == 0
    said = capsys.readouterr().err
    resumed = int(re.search(r"going on from epoch (\d) of 5", said).group(1))
    assert 2 <= resumed < 5 and "epoch 1/5" not in said  # at most the epoch under way was lost
    epochs = [int(row.split(",")[0]) for row in (out / "training_metrics.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(1, 6))  # every epoch once: none lost, none repeated
    assert Explorer(out.parent).model_names() == ["mine"]


def test_a_build_killed_mid_embedding_keeps_its_training_and_is_not_offered_half_done(tmp_path, capsys):
    out, runs = tmp_path / "models" / "mine", tmp_path / "runs"
    kill_when(start_build(out, runs, epochs=2), r"\[3/3\] embed")
    assert (out / "config.json").is_file() and (out / BUILDING_NAME).exists()
    assert Explorer(out.parent).model_names() == []  # exported, not embedded: the app leaves it out
    assert main([*build_args(out, runs, epochs=2, data="synthetic:600"), "--no-estimate"]) == 0
    said = capsys.readouterr().err
    assert "[1/3] train: done earlier" in said and "[2/3] export: done earlier" in said
    assert (out / "atlas.npz").is_file() and not (out / BUILDING_NAME).exists()
    assert Explorer(out.parent).model_names() == ["mine"]


@pytest.fixture
def growing_app(tiny_models, tmp_path):
    """The Gradio app served over a folder that holds one model, to which the test adds another."""
    from app_fixtures import served

    root = tmp_path / "models"
    root.mkdir()
    (root / "tiny-vae").symlink_to(tiny_models / "tiny-vae", target_is_directory=True)
    with served(root) as (app, url):
        yield app, url, root


def test_the_gradio_app_offers_a_model_built_while_it_runs(growing_app, tiny_models):
    from gradio_client import Client

    _, url, root = growing_app
    client = Client(url, verbose=False)
    shutil.copytree(tiny_models / "tiny-vae-gray", root / "new-model")
    (root / "new-model" / BUILDING_NAME).touch()  # still being built: not offered
    picker = client.predict("tiny-vae", api_name="/refresh_models")  # the picker's update, as the page gets it
    assert [name for _, name in picker["choices"]] == ["tiny-vae"]
    (root / "new-model" / BUILDING_NAME).unlink()
    picker = client.predict("tiny-vae", api_name="/refresh_models")
    assert [name for _, name in picker["choices"]] == ["new-model", "tiny-vae"]
    assert picker["value"] == "tiny-vae"  # the current model stays
    summary, face, *_ = client.predict("new-model", 42, 1.0, api_name="/select_model")
    assert "new-model" in summary and 'data-model="new-model"' in face


@pytest.mark.browser
def test_refresh_models_in_a_browser_offers_the_new_model_without_a_reload(growing_app, tiny_models):
    pytest.importorskip("playwright.sync_api")
    from app_fixtures import browser_page

    _, url, root = growing_app
    with browser_page(url) as page:
        page.locator("#face img").first.wait_for(timeout=60_000)
        shutil.copytree(tiny_models / "tiny-vae-gray", root / "new-model")
        page.get_by_role("button", name="Refresh models").click()
        page.get_by_text("2 models").first.wait_for(timeout=30_000)  # the toast says what it found
        page.get_by_label("Model", exact=True).click()
        page.get_by_role("option", name=re.compile("^new-model( |$)")).click()
        page.wait_for_function("() => document.querySelector('#face img')?.dataset.model === 'new-model'",
                               timeout=60_000)


def test_a_rebuilt_folder_is_loaded_afresh_after_a_refresh(tiny_models, tmp_path):
    root = tmp_path / "models"
    shutil.copytree(tiny_models / "tiny-vae", root / "mine")
    explorer = Explorer(root, data=["synthetic"])
    first = explorer.model("mine")
    assert explorer.refresh()[1] == [] and explorer.model("mine") is first
    shutil.copyfile(tiny_models / "tiny-vae-gray" / "metrics.json", root / "mine" / "metrics.json")
    assert explorer.refresh()[1] == ["mine"] and explorer.model("mine") is not first


def test_the_streamlit_app_offers_a_model_built_while_it_runs(tiny_models, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from explorer.service import ENV_VAR

    root = tmp_path / "models"
    shutil.copytree(tiny_models / "tiny-vae", root / "tiny-vae")
    monkeypatch.setenv(ENV_VAR, str(root))
    at = AppTest.from_file(str(ROOT / "webui" / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert len(at.sidebar.selectbox(key="model").options) == 1
    shutil.copytree(tiny_models / "tiny-vae-gray", root / "new-model")
    at.sidebar.button(key="refresh-models").click().run()
    assert not at.exception, at.exception
    assert len(at.sidebar.selectbox(key="model").options) == 2
