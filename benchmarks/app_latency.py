"""Slider-to-image latency of the explorer, measured four ways, plus the app's cold start.

  server   the core call a slider drag makes (explorer.face + PNG encode), p50/p95 over 200 drags, beside a
           baseline written the plain way (autograd left on, PIL's default PNG compression)
  http     end to end over HTTP against the running app: GET face.png, what the page requests per drag
  client   end to end through gradio_client: the /face endpoint (latent + slider offsets → PNG file)
  browser  headless Chromium: slider input event → the new image painted, p50/p95, beside a baseline
           app served in the same run the previous way (a Gradio event returning a gr.Image)
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
        png_bytes(face)  # the face route's work; the page scales the 64-px PNG with CSS
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


def http_side(url: str, explorer, name: str, count: int, drags: int) -> list[float]:
    """What the page's script does on each drag: GET face.png with the base and the slider values."""
    from webui.gradio_app.face import face_src

    base, rng, samples = explorer.random_base(name, 42), np.random.default_rng(1), []
    for _ in range(drags):
        src = face_src(name, base, list(rng.uniform(-3, 3, count).round(2)))
        started = time.perf_counter()
        with urllib.request.urlopen(url + src, timeout=30) as response:
            response.read()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def client_side(url: str, explorer, name: str, count: int, drags: int) -> list[float]:
    """An API user's drag: gradio_client calls /face and downloads the PNG it names."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    base, rng, samples = explorer.random_base(name, 42).tolist(), np.random.default_rng(2), []
    for _ in range(drags):
        offsets = list(rng.uniform(-3, 3, count).round(2))
        started = time.perf_counter()
        client.predict(name, base, offsets, api_name="/face")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def gradio_event_baseline(explorer, name: str):
    """The previous design, served in this process: a gr.Image face redrawn by the slider's Gradio event
    (queue=False, always_last), the face PNG written to Gradio's cache and fetched by the page."""
    import gradio as gr

    base = explorer.random_base(name, 42)

    def face(value):
        image, _ = explorer.face(name, base, [value])
        return image.repeat(4, 0).repeat(4, 1)

    with gr.Blocks() as baseline:
        image = gr.Image(value=face(0.0), type="numpy", format="png", interactive=False, elem_id="face")
        slider = gr.Slider(-3, 3, value=0, step=0.05, elem_id="slider-0")
        slider.change(face, slider, image, trigger_mode="always_last", show_progress="hidden", queue=False)
    port = free_port()
    baseline.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return baseline, f"http://127.0.0.1:{port}/"


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
        print(f"http     GET face.png (what a drag requests) {percentiles(http_side(url, explorer, args.model, count, args.drags))}")
        print(f"client   gradio_client /face {percentiles(client_side(url, explorer, args.model, count, args.drags))}")
        ours = browser_side(url, min(args.drags, 60))
    finally:
        server.terminate()
    baseline, baseline_url = gradio_event_baseline(explorer, args.model)
    try:
        theirs = browser_side(baseline_url, min(args.drags, 60))
    finally:
        baseline.close()
    print(f"browser  slider input → image painted, ours (face route)       {percentiles(ours)}")
    print(f"browser  baseline (Gradio event + cached file, previous design) {percentiles(theirs)}")
    print(f"browser  ratio baseline/ours at p50: {np.percentile(theirs, 50) / np.percentile(ours, 50):.2f}x, "
          f"p95: {np.percentile(theirs, 95) / np.percentile(ours, 95):.2f}x")


if __name__ == "__main__":
    main()
