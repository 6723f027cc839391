"""The Hugging Face Space folder: built by one command, self-contained, accepted by the Hub, honest when it cannot."""

import importlib.metadata as metadata
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from app_fixtures import CHECKPOINTS, free_port
from explorer.model_labels import read_catalog
from explorer.space import LFS_LIMIT, SpaceError, build, describe, is_binary, main, publish

BOOT = Path(__file__).with_name("space_boot.py")
OFFLINE = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


@pytest.fixture(scope="module")
def gradio_space(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spaces") / "gradio"
    build(folder)  # the default: the catalog's curated set
    return folder


@pytest.fixture(scope="module")
def streamlit_space(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spaces") / "streamlit"
    build(folder, ["vae-fashion28", "vae-anime64"], sdk="streamlit")
    return folder


def front_matter(folder: Path) -> dict:
    head = (folder / "README.md").read_text().split("---\n")[1]
    fields = {}
    for line in head.splitlines():
        if ":" in line and not line.startswith(" "):
            key, value = line.split(":", 1)
            fields[key] = json.loads(value) if value.strip() else None
    return fields


def requirement_names(folder: Path) -> set[str]:
    lines = [l for l in (folder / "requirements.txt").read_text().splitlines() if l and not l.startswith("-")]
    return {re.split(r"[=<>!~ ]", l)[0].lower() for l in lines}


def test_the_folder_holds_only_what_the_space_runs(gradio_space):
    names = {p.relative_to(gradio_space).parts[0] for p in gradio_space.rglob("*")}
    assert names == {".gitattributes", "README.md", "LICENSE.md", "requirements.txt", "app.py", "webui", "explorer",
                     "trainer", "checkpoints"}
    assert not (gradio_space / "webui" / "streamlit_app.py").exists()  # the Gradio Space runs no Streamlit
    assert not list(gradio_space.rglob("__pycache__")) and not list(gradio_space.rglob("test_*"))
    assert not (gradio_space / "trainer" / "train_vae.py").exists()  # the trainer's training code is not imported
    shipped = sorted(p.parent.name for p in (gradio_space / "checkpoints").glob("*/config.json"))
    assert shipped == sorted(read_catalog(CHECKPOINTS)) and list(read_catalog(gradio_space / "checkpoints"))[0] == \
        "vae-anime64-best"
    # No dataset image: the only pictures are the model folders' own decoded figures.
    pictures = {p.name for p in gradio_space.rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp", ".gif"}}
    assert pictures <= {"samples.png", "evolution.png", "loss_curves.png"}


def test_the_front_matter_is_what_the_hub_reads(gradio_space, streamlit_space):
    fields = front_matter(gradio_space)
    assert fields["sdk"] == "gradio" and fields["sdk_version"] == metadata.version("gradio")
    assert fields["app_file"] == "app.py" and fields["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (gradio_space / fields["app_file"]).is_file()
    docker = front_matter(streamlit_space)
    assert docker["sdk"] == "docker" and docker["app_port"] == 8501 and "sdk_version" not in docker
    requirements = (gradio_space / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements and "torch==" in requirements
    assert "gradio" not in requirement_names(gradio_space)  # the SDK installs it, at sdk_version
    assert "streamlit" in requirement_names(streamlit_space)


def test_every_binary_and_every_large_file_goes_through_lfs(gradio_space, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(gradio_space, copy)
    subprocess.run(["git", "init", "-q", str(copy)], check=True)
    files = [p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file() and ".git" not in p.parts]
    answer = subprocess.run(["git", "-C", str(copy), "check-attr", "filter", "--", *files], check=True,
                            capture_output=True, text=True).stdout
    filters = dict(line.rsplit(": filter: ", 1) for line in answer.splitlines())
    must = [f for f in files if is_binary(copy / f) or (copy / f).stat().st_size > LFS_LIMIT]
    assert len(must) > 10 and all(filters[f] == "lfs" for f in must), [f for f in must if filters[f] != "lfs"]
    assert all(filters[f] != "lfs" for f in files if f.endswith((".py", ".md", ".txt")))
    assert any((copy / f).stat().st_size > LFS_LIMIT for f in must)  # the atlases and weights of the anime models


def served_space(folder: Path, modules: Path):
    """The Gradio Space's app.py started from its own folder, as the Space starts it, the repository unreachable."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANIME_EXPLORER", "PYTHON"))}
    process = subprocess.Popen([sys.executable, "-E", "-s", str(BOOT), str(modules), "app.py", "--port", str(port)],
                               cwd=folder, env={**env, **OFFLINE, "GRADIO_SERVER_NAME": "127.0.0.1"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the Space's app exited:\n{process.stdout.read()[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise AssertionError("the Space's app did not answer within 180 s")


def test_the_space_boots_from_its_own_folder_and_serves_every_model(gradio_space, tmp_path):
    from gradio_client import Client, handle_file

    from trainer.data.synthetic import synthetic_faces

    modules = tmp_path / "modules.json"
    process, url = served_space(gradio_space, modules)
    try:
        client = Client(url, verbose=False)
        _, face = next(synthetic_faces(1, 200, seed=3))[:2]
        face.save(tmp_path / "face.png")
        for name in read_catalog(gradio_space / "checkpoints"):
            face_html = client.predict(name, 42, 1.0, api_name="/select_model")[1]
            src = re.search(r'src="([^"]+)"', face_html).group(1).replace("&amp;", "&")
            picture = httpx.get(url + src, timeout=60)
            assert picture.status_code == 200 and picture.headers["content-type"] == "image/png", name
            assert Image.open(io.BytesIO(picture.content)).size[0] in (28, 64)
        original, recon, info, *_ = client.predict("vae-anime64-best", handle_file(str(tmp_path / "face.png")),
                                                   api_name="/reconstruct")
        assert "PSNR" in info and Image.open(recon).size == (64, 64)  # the model's own pixels
    finally:
        process.send_signal(signal.SIGTERM)
        log = process.communicate(timeout=60)[0]
    record = json.loads(modules.read_text())
    imported = record["modules"]
    ours = {n: f for n, f in imported.items() if n.split(".")[0] in ("app", "explorer", "trainer", "webui")}
    assert ours and all(f is None or Path(f).resolve().is_relative_to(gradio_space.resolve()) for f in ours.values()), \
        [f for f in ours.values() if f and not Path(f).resolve().is_relative_to(gradio_space.resolve())]
    assert_every_import_is_required(record, gradio_space, sdk="gradio")
    assert "Traceback" not in log, log[-3000:]


def distributions_of(requirement: str, seen: set[str]) -> set[str]:
    """``requirement`` and everything it requires, installed here (extras ignored, environment markers honoured)."""
    name = requirement.lower().replace("_", "-")
    if name in seen:
        return seen
    seen.add(name)
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return seen
    from packaging.requirements import Requirement

    for text in requires:
        parsed = Requirement(text)
        if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
            distributions_of(parsed.name, seen)
    return seen


def assert_every_import_is_required(record: dict, folder: Path, sdk: str) -> None:
    """Every third-party module the Space's own code imported while it ran comes from a distribution its
    requirements name, or one they (or the SDK's Gradio) pull in. (What a library imports on its own, an
    optional extra found installed here, is that library's business.)"""
    allowed: set[str] = set()
    for name in requirement_names(folder) | ({"gradio"} if sdk == "gradio" else set()):
        distributions_of(name, allowed)
    owners = metadata.packages_distributions()
    ours = {top: importer for top, importer in record["importers"].items()
            if importer and Path(importer).resolve().is_relative_to(folder.resolve())}
    local = {top for top in ours if (found := record["modules"].get(top))
             and Path(found).resolve().is_relative_to(folder.resolve())}
    third_party = {top: owners[top] for top in set(ours) - local if top in owners}
    assert {"torch", "numpy", "PIL"} <= set(third_party)  # the trace saw the app's own imports
    missing = {top: found for top, found in third_party.items()
               if not {d.lower().replace("_", "-") for d in found} & allowed}
    assert not missing, f"the Space's code imports these, but its requirements do not install them: {missing}"


def test_the_streamlit_space_installs_and_starts_with_its_dockerfile_lines(streamlit_space, tmp_path):
    dockerfile = (streamlit_space / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.11-slim") and "useradd -m -u 1000 user" in dockerfile
    assert "COPY --chown=user . ." in dockerfile and "HF_HUB_OFFLINE=1" in dockerfile
    install = next(l for l in dockerfile.splitlines() if l.startswith("RUN pip install")).split("  #")[0]
    # The same pip line into this environment (offline here: --no-index; everything must already be satisfied).
    pip = subprocess.run([sys.executable, "-m", *shlex.split(install)[1:], "--no-index", "--quiet"], cwd=streamlit_space,
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-2000:]
    command = json.loads(next(l for l in dockerfile.splitlines() if l.startswith("CMD ")).removeprefix("CMD "))
    assert command[:3] == ["streamlit", "run", "webui/streamlit_app.py"] and "0.0.0.0" in command
    port = free_port()
    command[command.index("--server.port") + 1] = str(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANIME_EXPLORER", "PYTHON"))}
    server = subprocess.Popen([str(Path(sys.executable).with_name("streamlit")), *command[1:]], cwd=streamlit_space,
                              env={**env, **OFFLINE}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "streamlit did not start"
            time.sleep(0.5)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
    finally:
        server.terminate()
        server.communicate(timeout=30)
    # The script itself, run from the folder with the repository out of reach: every page, no error.
    modules = tmp_path / "modules.json"
    run = subprocess.run([sys.executable, "-E", "-s", str(BOOT), str(modules), "apptest", "webui/streamlit_app.py"],
                         cwd=streamlit_space, env={**env, **OFFLINE}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    record = json.loads(modules.read_text())
    assert all(Path(f).resolve().is_relative_to(streamlit_space.resolve()) for n, f in record["modules"].items()
               if f and n.split(".")[0] in ("explorer", "trainer"))
    assert_every_import_is_required(record, streamlit_space, sdk="streamlit")


def test_bad_input_is_one_line_and_leaves_nothing_behind(tmp_path, tiny_models, capsys):
    with pytest.raises(SpaceError, match="no model 'nope'"):
        build(tmp_path / "a", ["nope"])
    assert not (tmp_path / "a").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(SpaceError, match="exists and is not an empty folder"):
        build(tmp_path / "full", ["vae-fashion28"])
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    # A model folder whose atlas no longer matches its weights is refused before anything is written.
    stale = tmp_path / "checkpoints"
    shutil.copytree(tiny_models / "tiny-vae", stale / "tiny-vae")
    for retrained in ("model.safetensors", "config.json"):  # as if re-exported without embedding again
        shutil.copy(tiny_models / "tiny-vae-gray" / retrained, stale / "tiny-vae" / retrained)
    with pytest.raises(SpaceError, match="tiny-vae: .*stale atlas"):
        build(tmp_path / "b", checkpoints=stale)
    assert not (tmp_path / "b").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".b-")]
    assert main(["build", str(tmp_path / "c"), "--models", "nope"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no model 'nope'") and error.count("\n") == 1


def test_publish_dry_run_lists_sizes_and_lfs_and_publishing_offline_fails_in_one_line(monkeypatch, capsys, tmp_path):
    lines = []
    assert publish("someone/anime-explorer", ["vae-fashion28"], dry_run=True, report=lines.append) is None
    listing = lines[0].splitlines()
    assert listing[0] == "dry run: would upload to the gradio Space someone/anime-explorer:"
    assert any(l.startswith("LFS") and l.endswith("checkpoints/vae-fashion28/model.safetensors") for l in listing)
    assert any(l.startswith("git") and l.endswith("app.py") for l in listing)
    assert re.match(r"\d+ files, [\d.]+ MB \(\d+ through LFS/Xet: [\d.]+ MB\)", listing[-1])
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))  # no stored login
    monkeypatch.setattr(hub, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf" / "stored_tokens"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["publish", "someone/anime-explorer", "--models", "vae-fashion28"]) == 2
    assert capsys.readouterr().err == "error: no Hugging Face token: set HF_TOKEN or run `hf auth login` first\n"
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    monkeypatch.setattr(hub, "ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens: the Hub is unreachable
    assert main(["publish", "someone/anime-explorer", "--models", "vae-fashion28"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: cannot reach the Hugging Face Hub") and error.count("\n") == 1
    assert main(["publish", "not-a-space-name", "--dry-run"]) == 2
    assert "OWNER/NAME" in capsys.readouterr().err
    assert describe([]) == "0 files, 0.0 MB (0 through LFS/Xet: 0.0 MB)"
