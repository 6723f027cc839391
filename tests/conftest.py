import os
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from filelock import FileLock

from trainer.data.synthetic import synthetic_faces

# anyio is a pytest plugin, so pytest rewrites every anyio module it imports, parsing its source with `ast`;
# anyio imports most of its modules lazily, on first use. The first file a served app handed out was then
# parsed in a server thread while another thread compiled: CPython 3.11's parser is not safe for that
# ("SystemError: AST constructor recursion depth mismatch"), and three downloads in a run failed with a
# truncated body. Imported here, once, in the main thread; outside pytest nothing is parsed on import.
import anyio

for name in dir(anyio):
    getattr(anyio, name)

# A worker per core (make test): each gets its share of the cores, so that two workers' torch thread pools do
# not contend for the same two cores (and their subprocesses inherit the share).
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if WORKERS > 1:
    THREADS = max(1, (os.cpu_count() or 1) // WORKERS)
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
    torch.set_num_threads(THREADS)


def write_face_files(folder: Path, count: int, size: int = 40) -> list[str]:
    """Synthetic faces saved as real image files (JPEG and PNG), plus a tags.csv in the dataset's format."""
    images = folder / "images"
    images.mkdir(parents=True)
    rows = []
    for index, image, _, tags in synthetic_faces(count, size, seed=7):
        suffix = ".png" if index % 5 == 0 else ".jpg"
        image.save(images / f"{index}{suffix}")
        rows.append(f"{index},{tags['hair']} hair {tags['eyes']} eyes")
    (folder / "tags.csv").write_text("\n".join(rows) + "\n")
    return rows


@pytest.fixture
def face_folder(tmp_path) -> Path:
    folder = tmp_path / "faces"
    write_face_files(folder, 30)
    (folder / "images" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "images" / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def face_zip(tmp_path, face_folder) -> Path:
    archive = tmp_path / "faces-archive.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(face_folder.rglob("*")):
            if path.is_file():
                handle.write(path, path.relative_to(face_folder).as_posix())
    return archive


def built_once(tmp_path_factory, name: str, build) -> Path:
    """The folder ``build(folder)`` fills, made once per test run. Under pytest-xdist each worker asks for the
    session fixtures itself: the first to come builds (≈ 1 min of training each), the others wait on a file
    lock and reuse it, instead of every worker training the same models again."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    folder = tmp_path_factory.getbasetemp().parent / name  # shared by the workers of this run
    with FileLock(f"{folder}.lock"):
        if not (folder / ".built").is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half-way left it
            folder.mkdir()
            build(folder)
            (folder / ".built").touch()
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """A checkpoints-like folder with one tiny VAE, trained, exported and embedded (shared by app tests)."""
    from app_fixtures import build_models_root

    return built_once(tmp_path_factory, "tiny-models", build_models_root) / "models"


@pytest.fixture(scope="session")
def served_app(tiny_models):
    """app.py served on a free port over ``tiny_models``: (module, url)."""
    from app_fixtures import served

    with served(tiny_models) as app_and_url:
        yield app_and_url


@pytest.fixture(scope="session")
def built_model(tmp_path_factory) -> tuple[Path, str]:
    """A folder made by ``python -m trainer build`` on synthetic faces: (folder, what the build printed)."""
    from app_fixtures import BUILT, build_model

    def build(root: Path) -> None:
        (root / "said.txt").write_text(build_model(root)[1])

    root = built_once(tmp_path_factory, "built", build)
    return root / "models" / BUILT, (root / "said.txt").read_text()


@pytest.fixture(scope="session")
def every_model_root(tiny_models, built_model, tmp_path_factory) -> Path:
    """The shipped folders, the tiny ones and a built one side by side, as links (nothing copied): what the
    matrix serves."""
    from app_fixtures import CHECKPOINTS, SHIPPED, TINY

    root = tmp_path_factory.mktemp("every-model")
    for folder in [CHECKPOINTS / name for name in SHIPPED] + [tiny_models / name for name in TINY] + [built_model[0]]:
        (root / folder.name).symlink_to(folder, target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def matrix_app(every_model_root):
    """app.py served over ``every_model_root``: (module, url)."""
    from app_fixtures import served

    with served(every_model_root) as app_and_url:
        yield app_and_url


# The tiers (make test runs neither): tests that need the FID Inception network, and tests that first train a
# DCGAN and its inversion encoder (≈ 2.5 min of setup on 2 cores).
INCEPTION_FIXTURES, SLOW_FIXTURES = {"extractor", "features"}, {"inverted"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if INCEPTION_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.inception)
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
