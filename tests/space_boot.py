"""Start a built Space's app from its own folder, as the Space would, with the repository out of reach.

``python -E -s space_boot.py MODULES.json SCRIPT [ARGS…]`` (cwd: the Space folder): drops the editable
install's finder and any path into the repository, runs SCRIPT as ``__main__``, and on SIGTERM writes every
imported module with its file, and the Space's own files that import each top-level module, to MODULES.json, so a
test can check what the running Space imported and who asked for it.
``… MODULES.json apptest SCRIPT``: runs the Streamlit SCRIPT once through AppTest (every page), prints its
errors, writes MODULES.json and exits 0 only if the run raised nothing and showed no error.
"""

import builtins
import json
import os
import runpy
import signal
import sys
from pathlib import Path

record, script, *arguments = sys.argv[1:]
folder = Path.cwd().resolve()
repository = Path(__file__).resolve().parents[1]
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path_hooks[:] = [h for h in sys.path_hooks if not getattr(h, "__module__", "").startswith("__editable__")]
sys.path[:] = [str(folder)] + [p for p in sys.path[1:] if p and Path(p).resolve() != repository]
sys.path_importer_cache.clear()

importers: dict[str, str] = {}  # top-level module → a file of the Space's own that imports it
plain_import = builtins.__import__
inside = str(folder) + os.sep


def tracing_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__file__") or ""
    if level == 0 and importer.startswith(inside):
        importers.setdefault(name.partition(".")[0], importer)
    return plain_import(name, globals, locals, fromlist, level)


builtins.__import__ = tracing_import


def snapshot() -> None:
    modules = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    Path(record).write_text(json.dumps({"modules": modules, "importers": importers}))


def write_modules(*_):
    snapshot()
    os._exit(0)


if script == "apptest":
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(folder / arguments[0]), default_timeout=300)
    at.run()
    problems = [str(e.value) for e in at.exception] + [e.value for e in at.error]
    print("\n".join(problems) or f"ran: {len(at.image)} images, {len(at.get('plotly_chart'))} map(s)")
    snapshot()
    sys.exit(1 if problems else 0)
signal.signal(signal.SIGTERM, write_modules)
sys.argv = [script, *arguments]
runpy.run_path(script, run_name="__main__")
