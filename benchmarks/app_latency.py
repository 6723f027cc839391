"""Slider-to-image latency of the explorer, measured three ways, plus the app's cold start.

  server   the core call a slider drag makes (explorer.face + PNG encode), p50/p95 over 200 drags, beside a
           baseline written the plain way (autograd left on, PIL's default PNG compression)
  client   end to end through gradio_client against the running app (/face), p50/p95
  browser  headless Chromium: slider input event → the new image painted, p50/p95
  cold     `import app` (models, atlas, layout) and launch until the page answers

    python benchmarks/app_latency.py [--checkpoints checkpoints] [--model vae-anime64] [--drags 200]
Goals (issue 4): server p95 < 20 ms, browser p95 < 100 ms, cold start < 10 s.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentiles(samples_ms: list[float]) -> str:
    return f"p50 {np.percentile(samples_ms, 50):6.1f} ms   p95 {np.percentile(samples_ms, 95):6.1f} ms"


def server_side(explorer, name: str, drags: int) -> tuple[list[float], list[float]]:
    from explorer.render import png_bytes

    rng = np.random.default_rng(0)
    base = explorer.random_base(name, 0)
    count = len(explorer.sliders(name))
    ours, plain = [], []
    model = explorer.model(name)
    for _ in range(drags):
        offsets = list(rng.uniform(-3, 3, count))
        started = time.perf_counter()
        face, _ = explorer.face(name, base, offsets)
        png_bytes(face.repeat(4, 0).repeat(4, 1))
        ours.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()  # baseline: the same latent, decoded with autograd on, default PNG
        latent = explorer.slider_latent(name, base, offsets)
        image = model.model.decode(torch.from_numpy(latent)[None]).clamp(0, 1).mul(255).byte()
        pil = Image.fromarray(image[0].permute(1, 2, 0).detach().numpy().squeeze()).resize((256, 256), Image.NEAREST)
        pil.save(io.BytesIO(), format="PNG")
        plain.append((time.perf_counter() - started) * 1000)
    return ours, plain


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cold_start(checkpoints: Path) -> tuple[float, float, subprocess.Popen, str]:
    """Seconds to import app.py, seconds until the launched page answers; the server keeps running."""
    env = {**os.environ, "ANIME_EXPLORER_CHECKPOINTS": str(checkpoints)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, check=True, capture_output=True)
    import_s = time.perf_counter() - started
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise SystemExit("the app did not start")
            time.sleep(0.1)
    return import_s, time.perf_counter() - started, server, url


def client_side(url: str, name: str, count: int, drags: int) -> list[float]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    client.predict(name, 42, 1.0, api_name="/select_model")
    rng = np.random.default_rng(1)
    samples = []
    for _ in range(drags):
        started = time.perf_counter()
        client.predict(name, *rng.uniform(-3, 3, count).round(2), api_name="/face")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


BROWSER_DRAG = """async (value) => {
  const img = () => document.querySelector('#face img');
  const before = img().src;
  const slider = document.querySelector('#slider-0 input[type=range]');
  const t0 = performance.now();
  slider.value = value;
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  slider.dispatchEvent(new Event('change', {bubbles: true}));
  while (img().src === before || !img().complete) { await new Promise(r => requestAnimationFrame(r)); }
  await new Promise(r => requestAnimationFrame(r));
  return performance.now() - t0;
}"""


def browser_side(url: str, drags: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page()
        page.goto(url, wait_until="load")
        page.locator("#face img").first.wait_for(timeout=60_000)
        page.locator("#slider-0 input[type=range]").wait_for(timeout=60_000)
        values = np.round(np.linspace(-2.9, 2.9, drags), 2)
        samples = [page.evaluate(BROWSER_DRAG, str(v)) for v in values]
        browser.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--model", default="vae-anime64")
    parser.add_argument("--drags", type=int, default=200)
    args = parser.parse_args()
    from explorer.service import Explorer

    explorer = Explorer(args.checkpoints)
    count = len(explorer.sliders(args.model))
    print(f"model {args.model} ({args.checkpoints}), {count} sliders, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    ours, plain = server_side(explorer, args.model, args.drags)
    print(f"server   ours     {percentiles(ours)}")
    print(f"server   baseline {percentiles(plain)}   (autograd on, default PNG compression)")
    print(f"server   ratio baseline/ours at p50: {np.percentile(plain, 50) / np.percentile(ours, 50):.2f}x")
    import_s, launch_s, server, url = cold_start(args.checkpoints)
    try:
        print(f"cold     import app {import_s:.1f} s, launch until the page answers {launch_s:.1f} s")
        print(f"client   gradio_client /face {percentiles(client_side(url, args.model, count, args.drags))}")
        print(f"browser  slider input → image painted {percentiles(browser_side(url, min(args.drags, 60)))}")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
