"""How long a person waits for the latent map in the Gradio app, in headless Chromium on the shipped models.

  open     page opened → Map tab clicked → every point drawn
  switch   another model picked → its map drawn
  map      another map type (umap / tsne / pca) picked → drawn

Each the median of ``--repeats`` tries, beside a baseline in the same run and the same server: the map sent as
JSON number lists (as before issue 38) instead of base64 typed arrays.

    python benchmarks/map_speed.py [--checkpoints checkpoints] [--repeats 3]
Goals (issue 38), 58k points: switch < 2 s, map < 1 s, open < 3 s.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from serving import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SETTLE_MS = 2000  # a person looks at the map before the next pick (the rest of a switch, samples, finishes)
DRAWN = ("(want) => { const m = document.querySelector('.latent-map');"
         " return m && m.dataset.points && (m.dataset.model + '|' + m.dataset.map).startsWith(want); }")


def wait_drawn(page, want: str) -> None:
    page.wait_for_function(DRAWN, arg=want, timeout=120_000)


def measure(page, url: str, models: list[str], maps: list[str]) -> dict[str, float]:
    """Seconds for each kind of wait, once."""
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="Map").click()
    wait_drawn(page, f"{models[0]}|")
    times = {"open": time.perf_counter() - started}
    page.wait_for_timeout(SETTLE_MS)
    started = time.perf_counter()
    page.get_by_label("Model", exact=True).click()
    page.get_by_role("option", name=re.compile(f"^{re.escape(models[1])}( |$)")).click()
    wait_drawn(page, f"{models[1]}|")
    times["switch"] = time.perf_counter() - started
    page.wait_for_timeout(SETTLE_MS)
    started = time.perf_counter()
    page.get_by_label(maps[1], exact=True).check()
    wait_drawn(page, f"{models[1]}|{maps[1]}/")
    times["map"] = time.perf_counter() - started
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from explorer.service import Explorer
    from webui.gradio_app import build_demo, launch, latent_map

    explorer = Explorer(args.checkpoints)
    demo = build_demo(explorer)
    names = [name for _, name in explorer.model_choices()]
    with_maps = [n for n in names if len(explorer.map_options(n)[0]) > 1]
    models = [names[0], with_maps[0] if with_maps[0] != names[0] else with_maps[1]]
    maps = explorer.map_options(models[1])[0]
    points = len(explorer.model(models[1]).atlas)
    port = free_port()
    launch(demo, explorer, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    packed = latent_map.packed  # the map handlers look it up at each call: swapped below for the baseline
    results: dict[str, dict[str, list[float]]] = {"typed arrays": {}, "JSON lists (baseline)": {}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for _ in range(args.repeats):  # interleaved, so a busy moment of the machine falls on both
            for way, encode in (("typed arrays", packed), ("JSON lists (baseline)", lambda payload: payload)):
                latent_map.packed = encode
                for kind, seconds in measure(page, url, models, maps).items():
                    results[way].setdefault(kind, []).append(seconds)
        browser.close()
    demo.close()
    print(f"map of {points:,} points; {models[0]} → {models[1]}; {maps[0]} → {maps[1]}; median of {args.repeats}")
    goals = {"open": 3.0, "switch": 2.0, "map": 1.0}
    for kind, goal in goals.items():
        ours = statistics.median(results["typed arrays"][kind])
        base = statistics.median(results["JSON lists (baseline)"][kind])
        print(f"  {kind:7s} {ours:6.2f} s   baseline {base:6.2f} s   ratio {base / ours:4.1f}×   goal < {goal:.0f} s")


if __name__ == "__main__":
    main()
