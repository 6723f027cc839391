"""The Hugging Face Space: build its folder from the working tree, and publish it.

``python -m explorer.space build OUT [--models A,B] [--sdk gradio|streamlit]`` writes a folder that holds
only what the Space runs: the app's own modules (found from its imports, not a hand list), the chosen model
folders (default: the catalog's curated set), a README whose front matter the Hub reads, a requirements file
pinned to what this environment runs, a licence note and a ``.gitattributes`` that sends every binary and
every file over 10 MB through LFS/Xet, so that the Hub accepts a plain ``git push`` of the folder too.
``--sdk streamlit`` makes a Docker Space serving the Streamlit front end instead.

``python -m explorer.space publish OWNER/NAME [--dry-run]`` builds it in a temporary folder and uploads it
with ``huggingface_hub`` (token from ``HF_TOKEN`` or ``huggingface-cli login``); ``--dry-run`` lists what
would go up, how large, and which files go through LFS/Xet.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata as metadata
import json
import modulefinder
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import ExplorerInputError
from explorer.model_labels import CATALOG_NAME, read_catalog, read_welcome

REPO = Path(__file__).resolve().parents[1]
LFS_LIMIT = 10 * 2**20  # the Hub refuses a plain-git file over 10 MB
ENTRY = {"gradio": "app.py", "streamlit": "webui/streamlit_app.py"}
STREAMLIT_PORT = 8501
# Installed with Gradio on a Gradio Space (its sdk_version), so not named again in requirements.txt.
SDK_PROVIDED = {"gradio": {"gradio", "gradio-client"}, "streamlit": set()}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class SpaceError(ExplorerInputError):
    """A build or publish that cannot go ahead; the message says why in one line."""


@dataclass(frozen=True)
class SpaceFile:
    path: str  # relative to the Space folder
    size: int
    lfs: bool


# ── what the Space runs ──────────────────────────────────────────────────────────────────────────────
def app_modules(sdk: str, root: Path = REPO) -> tuple[list[Path], set[str]]:
    """The project files the app imports (every import statement, in functions too) and the top-level
    names of the third-party modules they import."""
    finder = modulefinder.ModuleFinder(path=[str(root)])  # only our tree: third-party imports stay unresolved
    finder.run_script(str(root / ENTRY[sdk]))
    files = {Path(m.__file__) for m in finder.modules.values() if m.__file__}
    ours = {p.relative_to(root).parts[0].removesuffix(".py") for p in files}
    third_party = {name.split(".")[0] for name in finder.badmodules} - set(sys.stdlib_module_names) - ours
    return sorted(p.relative_to(root) for p in files), third_party


def requirements(third_party: set[str], sdk: str) -> list[str]:
    """Each imported module's distribution, pinned to the version this environment runs (torch: its CPU
    wheel, as the Space's hardware has no GPU); the SDK's own distributions left to the SDK."""
    owners = metadata.packages_distributions()
    missing = sorted(name for name in third_party if name not in owners)
    if missing:
        raise SpaceError(f"the app imports {', '.join(missing)}, which no installed distribution provides")
    distributions = {owner for name in third_party for owner in owners[name]}
    if sdk == "streamlit":
        distributions.add("streamlit")
    lines = []
    for name in sorted(distributions, key=str.lower):
        canonical = metadata.metadata(name)["Name"]
        if canonical.lower() in SDK_PROVIDED[sdk]:
            continue
        version = metadata.version(name).split("+")[0]  # torch 2.14.1+cu130 → 2.14.1, served as +cpu
        lines.append(f"{canonical}=={version}")
    return [f"--extra-index-url {TORCH_CPU_INDEX}", *lines]


def chosen_models(names: list[str] | None, checkpoints: Path) -> list[str]:
    """The models to ship: those named, else the catalog's curated set, each a folder that loads."""
    from explorer.model import ExplorerModel, discover_models

    available = [p.name for p in discover_models(checkpoints)]
    names = names or [n for n in read_catalog(checkpoints) if n in available] or available
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SpaceError(f"no model {', '.join(repr(n) for n in unknown)} in {checkpoints} "
                         f"(there are: {', '.join(available)})")
    for name in names:  # a stale atlas or prior is refused now, not on the Space
        try:
            model = ExplorerModel(checkpoints / name)
            if model.has_fitted_prior:
                model.latent_prior
        except ExplorerInputError as error:
            raise SpaceError(f"{name}: {error}") from None
    return names


# ── the folder ───────────────────────────────────────────────────────────────────────────────────────
def is_binary(path: Path) -> bool:
    """Git's own test: a NUL byte in the first 8000 bytes."""
    with open(path, "rb") as handle:
        return b"\0" in handle.read(8000)


def gitattributes(folder: Path) -> str:
    """LFS rules: one per binary file type (by suffix) and one per large or suffix-less file by path."""
    suffixes, paths = set(), set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        if path.name == ".gitattributes":
            continue
        binary, large = is_binary(path), path.stat().st_size > LFS_LIMIT
        if binary and path.suffix:
            suffixes.add(path.suffix.lower())
        elif binary or large:
            paths.add(path.relative_to(folder).as_posix())
    rules = [f"*{suffix} filter=lfs diff=lfs merge=lfs -text" for suffix in sorted(suffixes)]
    rules += [f"{path} filter=lfs diff=lfs merge=lfs -text" for path in sorted(paths)]
    return "# Every binary and every file over 10 MB goes through LFS/Xet (the Hub refuses them in plain git).\n" + \
        "\n".join(rules) + "\n"


def readme(sdk: str, models: list[str], catalog: dict[str, str]) -> str:
    """The Space's README: front matter the Hub reads (https://huggingface.co/docs/hub/spaces-config-reference)
    and a short page for a visitor."""
    fields = {"title": "Anime Latent Explorer", "emoji": "🎛️", "colorFrom": "indigo", "colorTo": "pink"}
    if sdk == "gradio":
        fields.update(sdk="gradio", sdk_version=metadata.version("gradio"), app_file="app.py")
    else:
        fields.update(sdk="docker", app_port=STREAMLIT_PORT)
    fields.update(python_version=".".join(platform.python_version_tuple()[:2]), pinned=False, license="mit",
                  short_description="Drag latent sliders of a VAE and a DCGAN trained on anime faces")
    lines = ["---", *[f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items()],
             "tags:", *[f"  - {t}" for t in ("vae", "gan", "dcgan", "latent-space", "anime", "pytorch")], "---", ""]
    listed = [f"- `{name}`" + (f": {catalog[name]}" if catalog.get(name) else "") for name in models]
    return "\n".join(lines + [
        "# anime-latent-explorer", "",
        "Drag latent sliders, reconstruct an uploaded face, interpolate between two, and explore the encoded "
        "dataset on a map, for a convolutional VAE and a DCGAN trained on anime faces"
        + (" (Streamlit front end)." if sdk == "streamlit" else "."), "",
        "Models in this Space (each folder under `checkpoints/` has its model card):", "", *listed, "",
        "Built by `python -m explorer.space build` from the anime-latent-explorer repository; see `LICENSE.md`.",
        ""])


def dockerfile() -> str:
    """After the Spaces Docker conventions: a user with uid 1000, files owned by it, nothing fetched at run time."""
    return "\n".join([
        "FROM python:3.11-slim",
        "RUN useradd -m -u 1000 user",
        "USER user",
        # PYTHONPATH: `streamlit run` puts only the script's folder (webui/) on the path; the app's packages
        # (explorer, webui, trainer) sit at the folder's top.
        "ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH PYTHONPATH=/home/user/app HF_HUB_OFFLINE=1 "
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS=false",
        "WORKDIR /home/user/app",
        "COPY --chown=user requirements.txt .",
        "RUN pip install --no-cache-dir -r requirements.txt",  # as uid 1000: pip installs under ~/.local
        "COPY --chown=user . .",
        f"EXPOSE {STREAMLIT_PORT}",
        f'CMD ["streamlit", "run", "{ENTRY["streamlit"]}", "--server.port", "{STREAMLIT_PORT}", '
        '"--server.address", "0.0.0.0", "--server.headless", "true"]', ""])


LICENCE = """# Licence

The code is the anime-latent-explorer project's, under the MIT licence.

The model weights were trained on two archives of anime-face crops collected from public repositories (the
MLDS homework data and a subset of the Kaggle "Anime Face Dataset" by splcher), whose publishers state no
licence beyond "for educational/research purposes"; the Fashion-MNIST models on Fashion-MNIST (MIT licence,
Zalando Research). This Space holds no dataset images: every face it shows is decoded by a model.
"""


def build(out: Path, models: list[str] | None = None, sdk: str = "gradio", root: Path = REPO,
          checkpoints: Path | None = None) -> list[SpaceFile]:
    """Write the Space folder at ``out`` (new, or an empty folder); returns its files. On any error nothing
    is left at ``out``: the folder is written beside it and moved into place when complete."""
    out, checkpoints = Path(out), Path(checkpoints or root / "checkpoints")
    if sdk not in ENTRY:
        raise SpaceError(f"--sdk must be gradio or streamlit, not '{sdk}'")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SpaceError(f"{out} exists and is not an empty folder; choose a new one")
    names = chosen_models(models, checkpoints)
    code, third_party = app_modules(sdk, root)
    lines = requirements(third_party, sdk)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for relative in code:
            (partial / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, partial / relative)
        for name in names:
            shutil.copytree(checkpoints / name, partial / "checkpoints" / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.part", ".*"))
        catalog = read_catalog(checkpoints)
        # The sentence under the picker names the curated set: it goes with that set only.
        welcome = {"welcome": read_welcome(checkpoints)} if names == list(catalog) else {}
        (partial / "checkpoints" / CATALOG_NAME).write_text(json.dumps(
            {**welcome, "models": {n: catalog.get(n, "") for n in names}}, indent=1, ensure_ascii=False) + "\n")
        (partial / "requirements.txt").write_text("\n".join(lines) + "\n")
        (partial / "README.md").write_text(readme(sdk, names, catalog))
        (partial / "LICENSE.md").write_text(LICENCE)
        if sdk == "streamlit":
            (partial / "Dockerfile").write_text(dockerfile())
        (partial / ".gitattributes").write_text(gitattributes(partial))
        if out.exists():
            out.rmdir()
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return listing(out)


def lfs_patterns(folder: Path) -> list[str]:
    text = (folder / ".gitattributes").read_text() if (folder / ".gitattributes").is_file() else ""
    return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line and not line.startswith("#")]


def tracked_by_lfs(relative: str, patterns: list[str]) -> bool:
    """Git's matching for these rules: a pattern without a slash matches the file name at any depth."""
    return any(fnmatch.fnmatch(relative.rsplit("/", 1)[-1], p) if "/" not in p else relative == p for p in patterns)


def listing(folder: Path) -> list[SpaceFile]:
    patterns = lfs_patterns(folder)
    files = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()]
    return [SpaceFile(f, (folder / f).stat().st_size, tracked_by_lfs(f, patterns)) for f in files]


def describe(files: list[SpaceFile]) -> str:
    """What would be uploaded: every file with its size and whether it goes through LFS/Xet, then totals."""
    lines = [f"{'LFS' if f.lfs else 'git'}  {f.size / 2**20:8.2f} MB  {f.path}" for f in files]
    lfs = sum(f.size for f in files if f.lfs)
    lines.append(f"{len(files)} files, {sum(f.size for f in files) / 2**20:.1f} MB "
                 f"({sum(f.lfs for f in files)} through LFS/Xet: {lfs / 2**20:.1f} MB)")
    return "\n".join(lines)


# ── publishing ───────────────────────────────────────────────────────────────────────────────────────
def publish(repo_id: str, models: list[str] | None = None, sdk: str = "gradio", dry_run: bool = False,
            private: bool = False, report=print) -> str | None:
    """Build the Space in a temporary folder and upload it to ``repo_id`` (OWNER/NAME); returns its URL."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise SpaceError(f"name the Space as OWNER/NAME, not '{repo_id}'")
    with tempfile.TemporaryDirectory(prefix="anime-space-") as scratch:
        folder = Path(scratch) / "space"
        files = build(folder, models, sdk)
        if dry_run:
            report(f"dry run: would upload to the {sdk} Space {repo_id}:\n{describe(files)}")
            return None
        import huggingface_hub
        from huggingface_hub.errors import HfHubHTTPError

        token = huggingface_hub.get_token()
        if not token:
            raise SpaceError("no Hugging Face token: set HF_TOKEN or run `hf auth login` first")
        api = huggingface_hub.HfApi(token=token)  # made now: it reads the endpoint (HF_ENDPOINT) as set now
        try:
            url = api.create_repo(repo_id, repo_type="space", private=private, exist_ok=True,
                                  space_sdk="docker" if sdk == "streamlit" else "gradio")
            api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="space",
                              commit_message="Publish anime-latent-explorer")
        except HfHubHTTPError as error:
            raise SpaceError(f"the Hub refused the upload: {str(error).splitlines()[0]}") from None
        except OSError as error:  # no network, DNS, refused connection (huggingface_hub's own vendored httpx raises its own types: matched by module below)
            raise SpaceError(f"cannot reach the Hugging Face Hub ({type(error).__name__}); check the network") from None
        except Exception as error:
            if type(error).__module__.startswith(("httpx", "httpcore", "requests", "urllib3")):
                raise SpaceError(f"cannot reach the Hugging Face Hub ({type(error).__name__}); check the network") from None
            raise
        report(f"published {describe(files).splitlines()[-1]} to {url}")
        return str(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.space", description=__doc__.split("\n\n")[0].replace("``", ""))
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("build", "write the Space folder"), ("publish", "build it and upload it to the Hub")):
        command = commands.add_parser(name, help=help_text)
        if name == "build":
            command.add_argument("out", type=Path, help="a new (or empty) folder")
        else:
            command.add_argument("repo", metavar="OWNER/NAME", help="the Space on the Hub (created if missing)")
            command.add_argument("--dry-run", action="store_true", help="list what would be uploaded; upload nothing")
            command.add_argument("--private", action="store_true", help="create the Space private")
        command.add_argument("--models", help="comma-separated model folders (default: the catalog's curated set)")
        command.add_argument("--sdk", choices=sorted(ENTRY), default="gradio",
                             help="gradio (the app) or streamlit (a Docker Space)")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    try:
        if args.command == "build":
            files = build(args.out, models, args.sdk)
            print(f"{args.out}: {describe(files).splitlines()[-1]}")
        else:
            publish(args.repo, models, args.sdk, args.dry_run, args.private)
    except ExplorerInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
