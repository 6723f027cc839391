"""A tiny trained, exported and embedded model folder, and the Gradio app served on it."""

import contextlib
import socket
from pathlib import Path
from types import SimpleNamespace

from stand_in_features import stand_in_inception
from trainer.cli import main

DATA = "synthetic:600"
GRAY = "tiny-vae-gray"  # sorts after tiny-vae: the app still opens on the RGB one
TINY = ["tiny-vae", GRAY]
BUILT = "my-faces"  # made by `python -m trainer build`, as a user with their own images would
CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
SHIPPED = sorted(p.parent.name for p in CHECKPOINTS.glob("*/config.json"))  # what a user of the app meets


def build_models_root(root: Path) -> Path:
    """checkpoints-like folder with one tiny VAE (trained 3 epochs, exported, embedded, evaluated with stand-in
    features) and a one-channel one (grayscale, as the Fashion-MNIST models: trained, exported, embedded, not
    evaluated)."""
    models = root / "models"
    assert main(["train", "--preset", "vae-tiny", "--image-channels", "1", "--data", DATA, "--epochs", "2",
                 "--out", str(root / "run-gray"), "--no-cache"]) == 0
    assert main(["export", "--run", str(root / "run-gray"), "--out", str(models / GRAY)]) == 0
    assert main(["embed", "--checkpoint", str(models / GRAY), "--data", DATA, "--maps", "pca", "--no-cache",
                 "--min-tag-count", "10"]) == 0
    assert main(["train", "--preset", "vae-tiny", "--data", DATA, "--epochs", "3", "--out", str(root / "run"),
                 "--no-cache"]) == 0
    assert main(["export", "--run", str(root / "run"), "--out", str(models / "tiny-vae")]) == 0
    assert main(["embed", "--checkpoint", str(models / "tiny-vae"), "--data", DATA, "--maps", "pca", "umap",
                 "--no-cache", "--min-tag-count", "10"]) == 0
    with stand_in_inception():  # what the app shows of an evaluation, not its figures: ≈ 30 s saved
        assert main(["evaluate", "--checkpoint", str(models / "tiny-vae"), "--data", DATA, "--num-samples", "16",
                     "--temperatures", "0.7", "--max-images", "200", "--no-cache"]) == 0
    return models


def build_args(out: Path, runs: Path, epochs: int = 3, data: str = "synthetic:300") -> list[str]:
    """The one command a user runs on their own images (here: synthetic faces; pca and umap maps only)."""
    return ["build", "--data", data, "--preset", "vae-tiny", "--name", out.name, "--epochs", str(epochs),
            "--out", str(out), "--runs", str(runs), "--maps", "pca", "umap", "--no-cache"]


def build_model(root: Path) -> tuple[Path, str]:
    """A model folder made by ``python -m trainer build`` (estimate included): (folder, what it printed)."""
    import io

    out, said = root / "models" / BUILT, io.StringIO()
    with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
        assert main(build_args(out, root / "runs")) == 0, said.getvalue()[-2000:]
    return out, said.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_app(models: Path) -> tuple[SimpleNamespace, str]:
    """The Gradio app built over ``models`` and served on a free port: (app, url), where ``app`` holds the
    server's own ``explorer``, its ``demo`` and handlers over the same explorer (``core``, ``maps``)."""
    from explorer.service import Explorer
    from webui.gradio_app import build_demo, launch
    from webui.gradio_app.blocks import SLIDER_COUNT
    from webui.gradio_app.handlers import app_handlers
    from webui.gradio_app.latent_map import map_handlers

    explorer = Explorer(models, data=["synthetic"])  # the "local data" the tiny model was embedded from
    demo = build_demo(explorer)
    port = free_port()
    launch(demo, explorer, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    core = app_handlers(explorer, SLIDER_COUNT)
    return SimpleNamespace(explorer=explorer, demo=demo, core=core, maps=map_handlers(explorer, core)), \
        f"http://127.0.0.1:{port}/"


@contextlib.contextmanager
def served(models: Path):
    """The Gradio app served over ``models`` for as long as the block runs: (app, url) as ``launch_app``."""
    app, url = launch_app(models)
    try:
        yield app, url
    finally:
        app.demo.close()


@contextlib.contextmanager
def browser_page(url: str, width: int = 1400, height: int = 1000):
    """A page of headless Debian Chromium (Playwright) opened on ``url``, desktop-sized unless told."""
    from playwright.sync_api import sync_playwright

    from test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="load")
            yield page
        finally:
            browser.close()
