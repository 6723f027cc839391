"""The served app under many users at once: errors, latency per kind of request, and memory.

N concurrent clients (threads, each its own gradio_client session) send R requests each of a realistic mix
against ``python app.py`` on loopback: slider faces (GET face.png, what a drag asks for), /random,
/reconstruct of a face, /interpolate between two uploads, and a map point. In one go: a warm-up run and
further runs of N × R (the RSS growth from the warm-up on says whether memory is bounded), then the same mix
from one client as the baseline (the ratio says what the crowd costs each request). The CPU time per request
of the server and of the load generator says which one the figures measure (they share the machine).

    python benchmarks/load.py [--clients 50] [--requests 20] [--runs 2] [--model vae-anime64-best]
Goals (issue 35): 0 errors at 50 × 20; face p95 < 250 ms and reconstruct p95 < 2 s; RSS growth < 100 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
from serving import cpu_seconds, free_port, rss_mb

MIX = [("face", 0.5), ("random", 0.15), ("reconstruct", 0.15), ("interpolate", 0.1), ("map point", 0.1)]
TIME_LIMIT_S = 900  # a run that takes longer than this is stopped and reported as such


def start_app() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_SERVER_NAME": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the app did not start")


def user(url: str, model: str, requests: int, faces: list[str], seed: int) -> list[tuple[str, float, str | None]]:
    """One person: a session, then ``requests`` operations drawn from the mix; (kind, seconds, error)."""
    from gradio_client import Client, handle_file

    rng = random.Random(seed)
    # The server is plain http on loopback, so TLS is never used; but gradio_client opens a new httpx client per
    # call, and with verification on each one loads the CA bundle again. Left on, the load
    # generator spent 7× the server's CPU on the same 2 cores, most of it there (py-spy), and the latencies
    # measured the client. ssl_verify=False only skips building that unused context.
    client = Client(url, verbose=False, ssl_verify=False, analytics_enabled=False)
    face_html = client.predict(model, seed, 1.0, api_name="/select_model")[1]
    src = url + re.search(r'src="([^"]+)"', face_html).group(1).replace("&amp;", "&").split("&v=")[0]
    http = httpx.Client(timeout=120, verify=False)
    client.predict(model, handle_file(faces[0]), api_name="/encode_a")
    client.predict(model, handle_file(faces[1]), api_name="/encode_b")
    done = []
    for _ in range(requests):
        kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        start = time.perf_counter()
        try:
            if kind == "face":
                values = ",".join(f"{rng.uniform(-3, 3):.2f}" for _ in range(16))
                response = http.get(f"{src}&v={values}")
                if response.status_code != 200 or len(response.content) < 100:
                    raise RuntimeError(f"HTTP {response.status_code}")
            elif kind == "random":
                client.predict(model, rng.randrange(10_000), 1.0, api_name="/random")
            elif kind == "reconstruct":
                client.predict(model, handle_file(rng.choice(faces)), api_name="/reconstruct")
            elif kind == "interpolate":
                client.predict(model, 8, "slerp", api_name="/interpolate")
            else:
                client.predict(model, rng.randrange(1000), api_name="/map_point")
            done.append((kind, time.perf_counter() - start, None))
        except Exception as error:  # counted and named: a benchmark reports failures, it does not stop on them
            done.append((kind, time.perf_counter() - start, f"{kind}: {type(error).__name__}: {str(error)[:120]}"))
    http.close()
    return done


def run(url: str, model: str, clients: int, requests: int, faces: list[str], server_pid: int) -> dict:
    start, server_cpu, client_cpu = time.perf_counter(), cpu_seconds(server_pid), time.process_time()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(user, url, model, requests, faces, seed) for seed in range(clients)]
        results = [r for f in futures for r in f.result(timeout=TIME_LIMIT_S)]
    by_kind = defaultdict(list)
    for kind, seconds, error in results:
        by_kind[kind].append((seconds, error))
    return {"wall": time.perf_counter() - start, "requests": len(results),
            "server cpu": cpu_seconds(server_pid) - server_cpu, "client cpu": time.process_time() - client_cpu,
            "errors": [e for _, _, e in results if e],
            "latency": {k: [s * 1000 for s, e in v if not e] for k, v in by_kind.items()}}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--model", default="vae-anime64-best")
    parser.add_argument("--runs", type=int, default=2,
                        help="runs of the crowd (the first is the warm-up; RSS is read after each)")
    args = parser.parse_args()
    if not (1 <= args.clients <= 200 and 1 <= args.requests <= 200 and 2 <= args.runs <= 10):
        raise SystemExit("error: --clients and --requests must lie in 1..200 and --runs in 2..10 (loopback, bounded)")
    from trainer.data.synthetic import synthetic_faces

    scratch = Path(tempfile.mkdtemp(prefix="load-"))
    faces = []
    for index, image, _, _ in synthetic_faces(3, 128, seed=21):  # several people uploading the same few faces
        faces.append(str(scratch / f"face-{index}.png"))
        image.save(faces[-1])
    process, url = start_app()
    try:
        rss = [rss_mb(process.pid)]
        reports = {}
        crowd = ["warm-up"] + [f"run {n}" for n in range(2, args.runs + 1)]
        for label, clients in [(label, args.clients) for label in crowd] + [("baseline, 1 client", 1)]:
            reports[label] = run(url, args.model, clients, args.requests, faces, process.pid)
            rss.append(rss_mb(process.pid))
    finally:
        process.terminate()
        log = process.communicate(timeout=60)[1]
    print(f"{args.clients} clients × {args.requests} requests, model {args.model}, {os.cpu_count()} CPUs")
    kinds = [k for k, _ in MIX]
    print(f"{'run':22}{'errors':>8}{'wall':>8}  " + "  ".join(f"{k + ' p50/p95 ms':>22}" for k in kinds))
    for label, report in reports.items():
        cells = [f"{percentile(report['latency'].get(k, []), 50):9.0f} / {percentile(report['latency'].get(k, []), 95):7.0f}"
                 for k in kinds]
        print(f"{label:22}{len(report['errors']):>8}{report['wall']:7.1f}s  " + "  ".join(f"{c:>22}" for c in cells))
    last, base = reports[crowd[-1]], reports["baseline, 1 client"]
    print(f"ratio {crowd[-1]} / baseline (p50): " + ", ".join(
        f"{k} {percentile(last['latency'].get(k, []), 50) / percentile(base['latency'].get(k, []), 50):.1f}×"
        for k in kinds if base["latency"].get(k)))
    # The clients share the server's cores here, so what they burn is CPU the server did not get.
    print("CPU per request (ms), server / load generator: " + ", ".join(
        f"{label} {1000 * r['server cpu'] / r['requests']:.0f} / {1000 * r['client cpu'] / r['requests']:.0f}"
        for label, r in reports.items()))
    print(f"RSS (MB): start {rss[0]:.0f}, " + ", ".join(f"after {label} {mb:.0f}" for label, mb in zip(reports, rss[1:]))
          + f"; growth from the warm-up to {crowd[-1]}: {rss[len(crowd)] - rss[1]:+.0f} MB")
    for error in sorted(set(e for r in reports.values() for e in r["errors"]))[:10]:
        print("error:", error)
    print(f"server log lines mentioning Content-Length: {log.count('Content-Length')}")


if __name__ == "__main__":
    main()
