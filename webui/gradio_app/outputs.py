"""Files the app hands out (interpolation GIFs, latent JSON, API faces): one temp folder, pruned by age.

Gradio copies each returned file into its own cache, which ``delete_cache`` (set on the Blocks) prunes; the
originals here would otherwise pile up for as long as a Space runs. Each write removes files older than
``MAX_AGE_S``, long after any page or client has fetched them.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

MAX_AGE_S = 3600
OUTPUT_DIR = Path(tempfile.mkdtemp(prefix="anime-explorer-"))
CACHE_OWNER = "ANIME_EXPLORER_GRADIO_CACHE_PID"  # which process chose GRADIO_TEMP_DIR (children inherit it)


def own_gradio_cache() -> None:
    """Give this process a Gradio cache of its own, unless the operator chose one (``GRADIO_TEMP_DIR``).

    Gradio's default cache, ``/tmp/gradio``, is shared by every Gradio server on the machine and names each
    copy by its content, so two servers that hand out the same picture hand out the same file; and a server
    that is closed in a process that goes on (a notebook, a test worker) deletes every file it handed out:
    closing one copy of the app broke another's pictures. The own folder also goes when the process exits,
    which Gradio's clean-up did not reach on Ctrl+C."""
    if os.environ.get(CACHE_OWNER) == str(os.getpid()):
        return  # chosen already, by an earlier app in this process
    if "GRADIO_TEMP_DIR" in os.environ and CACHE_OWNER not in os.environ:
        return  # the operator's choice
    folder = tempfile.mkdtemp(prefix="gradio-explorer-")
    os.environ["GRADIO_TEMP_DIR"], os.environ[CACHE_OWNER] = folder, str(os.getpid())
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def prune(folder: Path = OUTPUT_DIR, max_age_s: float = MAX_AGE_S) -> int:
    """Remove the files in ``folder`` last written more than ``max_age_s`` ago; returns how many."""
    cutoff, removed = time.time() - max_age_s, 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another request pruned it first
            pass
    return removed


def write_output(stem: str, suffix: str, data: bytes, folder: Path = OUTPUT_DIR) -> str:
    """``data`` saved as ``{stem}-{hash of data}{suffix}``; returns the path for Gradio to serve. The same
    content is one file: asked for again, it is only made young again, never rewritten while Gradio may be
    copying it; a new file appears whole (written aside, then renamed)."""
    prune(folder)
    path = folder / f"{stem}-{hashlib.sha1(data).hexdigest()[:20]}{suffix}"
    try:
        os.utime(path)
    except FileNotFoundError:
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as handle:
            handle.write(data)
        os.replace(handle.name, path)
    return str(path)
