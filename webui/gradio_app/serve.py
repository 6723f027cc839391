"""Serving the Gradio app: ``launch`` adds the slider face's HTTP route beside Gradio's own, ``main`` is
``python app.py``'s command line."""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from pathlib import Path

import gradio as gr

from explorer.errors import ExplorerInputError
from explorer.service import DEFAULT_ROOT, ENV_VAR, Explorer
from explorer.uploads import MAX_UPLOAD_BYTES
from webui.gradio_app.blocks import CONCURRENT_EVENTS, CSS, SLIDER_COUNT, build_demo
from webui.gradio_app.face import face_route


def launch(demo: gr.Blocks, explorer: Explorer, **options):
    """Serve ``demo`` (built over ``explorer``) with the face route; ``options`` go to Gradio's launch."""
    # Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for a monitoring
    # dashboard this app turns off: under 30 concurrent users that held the GIL for ~4% of the server's time
    # and grew with uptime. Kept: the last 1,000 events, summarised every 1,000 (an operator may override).
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    route = face_route(lambda name, base, offsets: explorer.face(name, base, offsets)[0],
                       lambda name: explorer.model(name).latent_dim, SLIDER_COUNT)
    # max_file_size: Gradio refuses a file over the core's image limit before writing it to disk.
    return demo.queue(default_concurrency_limit=CONCURRENT_EVENTS).launch(
        css=CSS, app_kwargs={"routes": [route]}, max_file_size=MAX_UPLOAD_BYTES,
        enable_monitoring=False, **options)


def cap_malloc_arenas(arenas: int = 2) -> None:
    """Fewer glibc malloc arenas for a server of many threads. Each thread that allocates under contention gets
    an arena of its own (up to 8 per core) and keeps its freed memory: under 30 concurrent users the RSS grew
    +117 MB over three runs; capped at 2 arenas, +31 MB, and at 50 users it peaks 440 MB lower
    (benchmarks/load.py). The same as MALLOC_ARENA_MAX=2, which a Gradio Space cannot set before the process
    starts. Not glibc: nothing to do."""
    if sys.platform.startswith("linux") and "MALLOC_ARENA_MAX" not in os.environ:
        try:
            ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX in glibc's malloc.h
        except (OSError, AttributeError):  # musl or another libc: its own allocator, left as it is
            pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the anime-latent-explorer app.")
    parser.add_argument("--checkpoints", type=Path,
                        help=f"folder of model folders (default: ${ENV_VAR}, else {DEFAULT_ROOT})")
    parser.add_argument("--port", type=int, default=None, help="port (default: Gradio's, 7860)")
    parser.add_argument("--data", action="append", default=None, metavar="PATH",
                        help="local copy of the dataset (folder, .zip or fashion-mnist[:DIR]; repeatable): "
                             "the map shows each point's original image beside its decoding")
    args = parser.parse_args(argv)
    cap_malloc_arenas()
    try:
        explorer = Explorer(args.checkpoints, args.data)
    except ExplorerInputError as error:
        parser.exit(2, f"error: {error}\n")
    launch(build_demo(explorer), explorer, server_port=args.port)
