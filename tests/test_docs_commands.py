"""Every command in the README and docs/ still exists, with every option it is shown with: each program's
``--help`` is run and must name them (so no command in the docs rots when an option is renamed)."""

import contextlib
import functools
import importlib
import io
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAKE_TARGETS = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))


def shell_lines(path: Path) -> list[str]:
    """The commands of ``path``'s bash blocks, continuation lines joined, comments cut."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def program(tokens: list[str]) -> tuple[list[str], list[str]] | None:
    """(the command that prints its help, the arguments shown after it) for a command of ours, else None."""
    for i, token in enumerate(tokens):
        if token == "-m" and i + 1 < len(tokens) and tokens[i + 1] in ("trainer", "explorer.space"):
            module, rest = tokens[i + 1], tokens[i + 2:]
            sub = [rest[0]] if rest and not rest[0].startswith("-") else []
            return [sys.executable, "-m", module, *sub], rest[len(sub):]
        if token.endswith(".py") and (ROOT / token).is_file() and i > 0 and tokens[i - 1].endswith("python"):
            return [sys.executable, token], tokens[i + 1:]
    return None


MODULE_MAINS = {"trainer": "trainer.cli", "explorer.space": "explorer.space"}


@functools.lru_cache(maxsize=None)
def help_of(command: tuple[str, ...]) -> subprocess.CompletedProcess:
    """``command --help``, once however many documented lines use the command, run in this process: starting
    Python and torch again costs 3–8 s a command. The entry points themselves are started once each by
    ``test_the_entry_points_answer_help``."""
    out, err = io.StringIO(), io.StringIO()
    argv, path = sys.argv, sys.path[:]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if command[1] == "-m":
                code = importlib.import_module(MODULE_MAINS[command[2]]).main([*command[3:], "--help"])
            else:  # a script, as `python SCRIPT --help` runs it: its own folder importable, its argv
                script = str(ROOT / command[1])
                sys.argv, sys.path = [script, "--help"], [str(Path(script).parent), *path]
                runpy.run_path(script, run_name="__main__")
                code = 0
    except SystemExit as done:
        code = done.code or 0
    finally:
        sys.argv, sys.path[:] = argv, path
    return subprocess.CompletedProcess(command, code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("module", sorted(MODULE_MAINS))
def test_the_entry_points_answer_help(module):
    shown = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert shown.returncode == 0 and "usage:" in shown.stdout, shown.stderr[-500:]


COMMANDS = [(path.relative_to(ROOT).as_posix(), line) for path in DOCS for line in shell_lines(path)]


def test_the_docs_show_commands():
    assert len(COMMANDS) > 10 and any(path.startswith("docs/") for path, _ in COMMANDS)


@pytest.mark.parametrize("where, line", COMMANDS, ids=[f"{p}:{i}" for i, (p, _) in enumerate(COMMANDS)])
def test_a_documented_command_exists_with_its_options(where, line):
    tokens = shlex.split(line.replace("…", "X"))
    if tokens[0] == "make":
        assert tokens[1] in MAKE_TARGETS, f"{where}: `make {tokens[1]}` is not a Makefile target"
        return
    if "streamlit" in tokens[0]:
        assert (ROOT / tokens[2]).is_file(), f"{where}: {tokens[2]} does not exist"
        return
    found = program(tokens)
    if found is None:
        pytest.skip(f"not a command of this project: {line}")
    command, arguments = found
    shown = help_of(tuple(command))
    assert shown.returncode == 0, f"{where}: `{' '.join(command[1:])} --help` failed: {shown.stderr[-500:]}"
    assert "``" not in shown.stdout, f"{where}: `{' '.join(command[1:])} --help` shows RST markup"
    for option in {a.split("=")[0] for a in arguments if a.startswith("--")}:
        assert re.search(rf"{re.escape(option)}\b", shown.stdout), f"{where}: {option} is not an option of {line}"
