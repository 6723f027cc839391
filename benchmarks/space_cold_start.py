"""Cold start of the built Hugging Face Space, beside the same app started from the repository in the same run.

From process start: the time to the first 200 on ``/`` (the page) and to the first slider face (model select
through gradio_client, then the face route's PNG), and the server's RSS after every included model has served
a face. The Space runs from its own folder (``python app.py``, its cwd, no PYTHONPATH), as on Spaces.

    python benchmarks/space_cold_start.py [--space DIR] [--models a,b] [--runs 2]
Goals (issue 33): first page < 5 s, RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
from serving import free_port, rss_mb



def cold_start(folder: Path, models: list[str]) -> dict:
    """One start of ``python app.py`` in ``folder``: seconds to the page, to the first face, RSS after all."""
    from gradio_client import Client

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ANIME_EXPLORER"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", GRADIO_SERVER_NAME="127.0.0.1", HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
            if process.poll() is not None or time.perf_counter() - start > 300:
                raise SystemExit(f"the app in {folder} did not start")
        page = time.perf_counter() - start
        client = Client(url, verbose=False)
        first_face = None
        for name in models:
            html = client.predict(name, 42, 1.0, api_name="/select_model")[1]
            src = re.search(r'src="([^"]+)"', html).group(1).replace("&amp;", "&")
            assert httpx.get(url + src, timeout=60).status_code == 200
            first_face = first_face or time.perf_counter() - start
        return {"page": page, "face": first_face, "rss": rss_mb(process.pid)}
    finally:
        process.terminate()
        process.wait(timeout=60)


def torch_build() -> str:
    import torch

    return f"torch {torch.__version__} ({'CUDA build' if torch.version.cuda else 'CPU build'}, running on CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", type=Path, help="a built Space folder (default: build one in a temp folder)")
    parser.add_argument("--models", help="comma-separated models for the built Space (default: the curated set)")
    parser.add_argument("--runs", type=int, default=2, help="starts of each (the median is reported)")
    args = parser.parse_args()
    from explorer.model_labels import read_catalog
    from explorer.space import build

    with tempfile.TemporaryDirectory() as scratch:
        space = args.space or Path(scratch) / "space"
        if args.space is None:
            build(space, args.models.split(",") if args.models else None)
        models = list(read_catalog(space / "checkpoints"))
        print(f"{torch_build()}; {os.cpu_count()} CPUs; models: {', '.join(models)}")
        results = {}
        for label, folder in (("space", space), ("repository (baseline)", ROOT)):
            runs = [cold_start(folder, models) for _ in range(args.runs)]
            results[label] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{'':24}{'first page':>12}{'first face':>12}{'RSS, all models':>18}")
        for label, r in results.items():
            print(f"{label:24}{r['page']:11.2f}s{r['face']:11.2f}s{r['rss']:15.0f} MB")
        space_r, base = results["space"], results["repository (baseline)"]
        print(f"{'ratio space / baseline':24}{space_r['page'] / base['page']:11.2f}x{space_r['face'] / base['face']:11.2f}x"
              f"{space_r['rss'] / base['rss']:16.2f}x")
        print(f"goals: first page < 5 s ({'met' if space_r['page'] < 5 else 'missed'}), "
              f"RSS < 2 GB ({'met' if space_r['rss'] < 2048 else 'missed'})")


if __name__ == "__main__":
    main()
