"""``python -m trainer build``: a folder (or zip) of images → a model folder the explorer serves, in one command.

The stages are the commands a person would otherwise chain by hand, with the flags that must carry over
carried: train → export → invert (a DCGAN's image → z encoder) → embed (the atlas; a VAE's fitted prior) →
evaluate (with ``--evaluate``). Before training, a short measured run says how long the build will take here.

A build is resumable. Its state lives beside its training run in ``runs/build/NAME/`` (``build.json``: the
arguments and each finished stage with its time); run the same command again after Ctrl+C, a killed process
or a full disk and it goes on at the stage where it stopped, and inside training at the last finished epoch
(the run is checkpointed every epoch, so at most one epoch is lost). A finished stage is never redone unless
``--redo STAGE`` asks (which redoes the stages after it too, since they read what it wrote).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from trainer.atomic import atomic_write_json
from trainer.config import PRESETS, build_configs
from trainer.data import load_image_data
from trainer.data.errors import DataSourceError
from trainer.data.sources import native_sizes
from trainer.models.atlas import MAP_NAMES
from trainer.models.checkpoint import BUILDING_NAME, CheckpointError
from trainer.run_dir import RunDir

log = logging.getLogger("trainer")

STAGES = ("train", "export", "invert", "embed", "evaluate")
MIN_IMAGES = 100  # fewer leave a test split too small to measure anything (20 %: 20 faces)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
STATE_NAME = "build.json"
PROBE_STEPS = 12  # the measured run before training: 2 warm-up steps, then 10 timed
UMAP_COMPILE_S = 20.0  # numba compiles UMAP's kernels on its first use in a process


class BuildError(ValueError):
    """A build that cannot start or go on, for a reason the user can act on (one line)."""


def add_build_parser(commands) -> None:
    build = commands.add_parser("build", help="images → an explorable model folder: train, export, invert, "
                                "embed (and evaluate) in one resumable command")
    build.add_argument("--data", action="append", default=[], metavar="SOURCE", required=True,
                       help="folder or .zip of images (tags.csv optional), synthetic[:COUNT] or fashion-mnist[:DIR]; "
                            "repeat for several")
    build.add_argument("--preset", choices=sorted(PRESETS), required=True, help="the model to build")
    build.add_argument("--name", required=True, help="the model's name: its folder is checkpoints/NAME")
    build.add_argument("--epochs", type=int, help="training epochs (default: the preset's)")
    build.add_argument("--evaluate", action="store_true",
                       help="also measure FID/KID and reconstruction figures (needs the Inception network)")
    build.add_argument("--out", type=Path, help="the model folder to write (default: checkpoints/NAME)")
    build.add_argument("--runs", type=Path, default=Path("runs"), help="where the build keeps its training run "
                       "and state (default: runs/, as runs/build/NAME)")
    build.add_argument("--maps", nargs="+", choices=MAP_NAMES, default=list(MAP_NAMES),
                       help=f"2-D maps of the atlas (default: {' '.join(MAP_NAMES)})")
    build.add_argument("--redo", choices=STAGES, help="do this stage and every later one again")
    build.add_argument("--invert-steps", type=int, default=3000,
                       help="DCGAN: steps of each half of the inversion encoder's training (default 3000)")
    build.add_argument("--eval-samples", type=int, default=10_000, help="--evaluate: samples (default 10000)")
    build.add_argument("--no-estimate", action="store_true", help="skip the short measured run before training")
    build.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    build.add_argument("--cache-dir", type=Path, default=Path(".cache/data"),
                       help="where decoded images are cached between stages and runs (default: .cache/data)")
    build.add_argument("--no-cache", action="store_true", help="decode the sources without the disk cache")


class BuildState:
    """``build.json``: what the build was asked to do and which stages are finished (rewritten atomically)."""

    def __init__(self, folder: Path, request: dict):
        self.path = folder / STATE_NAME
        self.request = request
        self.stages: dict[str, dict] = {}

    @classmethod
    def open(cls, folder: Path, request: dict) -> "BuildState":
        state = cls(folder, request)
        if state.path.is_file():
            saved = json.loads(state.path.read_text())
            changed = [key for key in ("preset", "data", "out") if saved["request"].get(key) != request[key]]
            if changed:
                shown = ", ".join(f"--{key} {saved['request'][key]}" for key in changed)
                raise BuildError(f"the build '{request['name']}' was started with {shown}: run it with the same "
                                 f"arguments to continue, or choose another --name")
            state.stages = saved.get("stages", {})
            if request["epochs"] is None:
                request["epochs"] = saved["request"].get("epochs")
            elif request["epochs"] != saved["request"].get("epochs") and "train" in state.stages:
                state.forget_from("train")  # more --epochs on a rerun: training goes on from where it stopped
        return state

    def done(self, stage: str) -> bool:
        return stage in self.stages

    def finish(self, stage: str, seconds: float) -> None:
        self.stages[stage] = {"seconds": round(seconds, 1)}
        self.save()

    def forget_from(self, stage: str) -> None:
        """Mark ``stage`` and every later one as not done."""
        for later in STAGES[STAGES.index(stage):]:
            self.stages.pop(later, None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, {"request": self.request, "stages": self.stages,
                                      "about": "python -m trainer build: run the same command again to continue"})


def run_build(args: argparse.Namespace) -> dict:
    """Run (or continue) a build; returns the summary it prints."""
    if not NAME_PATTERN.fullmatch(args.name):
        raise BuildError(f"--name '{args.name}' must be letters, digits, '.', '-' or '_' (at most 64)")
    if args.epochs is not None and args.epochs < 1:
        raise BuildError("--epochs must be at least 1")
    if args.invert_steps < 1 or args.eval_samples < 10:
        raise BuildError("--invert-steps must be at least 1 and --eval-samples at least 10")
    out = Path(args.out) if args.out else Path("checkpoints") / args.name
    folder = Path(args.runs) / "build" / args.name
    request = {"name": args.name, "preset": args.preset, "data": list(args.data), "out": str(out),
               "epochs": args.epochs}
    fresh = not (folder / STATE_NAME).is_file()
    if fresh and out.exists() and any(out.iterdir()):
        raise BuildError(f"{out} already exists: choose another --name (or --out), or delete that folder")
    state = BuildState.open(folder, request)
    if args.redo:
        state.forget_from(args.redo)
    train_config, model_config = build_configs(args.preset, {"epochs": args.epochs} if args.epochs else {})
    cache = None if args.no_cache else args.cache_dir
    dcgan = train_config.model == "dcgan"
    stages = [s for s in STAGES if (s != "invert" or dcgan) and (s != "evaluate" or args.evaluate)]

    images = check_images(args.data, args.preset, model_config, train_config, cache)
    state.save()
    run_folder = folder / "run"
    timings: dict[str, float] = {}
    for number, stage in enumerate(stages, 1):
        label = f"[{number}/{len(stages)}] {stage}"
        if state.done(stage):
            log.info("%s: done earlier (%.0f s), skipped", label, state.stages[stage]["seconds"])
            timings[stage] = state.stages[stage]["seconds"]
            continue
        started = time.perf_counter()
        if stage == "train":
            if fresh and not args.no_estimate:
                estimate_build(args, train_config, model_config, cache, stages)
            log.info("%s: %s for %d epochs → %s", label, args.preset, train_config.epochs, run_folder)
            train_stage(args, run_folder, train_config, redo=args.redo == "train")
        elif stage == "export":
            log.info("%s: the run's last epoch → %s", label, out)
            from trainer.export import export_run

            out.mkdir(parents=True, exist_ok=True)
            (out / BUILDING_NAME).touch()  # the app leaves the folder out until the build is done
            export_run(run_folder, out, force=True, next_step_hint=False)
        elif stage == "invert":
            log.info("%s: the DCGAN's image → z encoder, %d + %d steps", label, args.invert_steps, args.invert_steps)
            from trainer.train_inversion import train_inversion

            train_inversion(out, args.data, synthetic_steps=args.invert_steps, real_steps=args.invert_steps,
                            device=args.device, cache_dir=cache)
        elif stage == "embed":
            log.info("%s: every image encoded into the atlas and its maps", label)
            embed_stage(out, args.data, args.device, cache, dcgan, images, tuple(args.maps))
        elif stage == "evaluate":
            log.info("%s: %d samples against the training split", label, args.eval_samples)
            from trainer.evaluate import run_evaluate

            run_evaluate(out, args.data, num_samples=args.eval_samples, device=args.device, data_cache=cache,
                         feature_cache=None if args.no_cache else Path(".cache/features"))
        timings[stage] = time.perf_counter() - started
        state.finish(stage, timings[stage])
    (out / BUILDING_NAME).unlink(missing_ok=True)
    summary = build_summary(out, timings)
    print(summary["text"])
    return summary


def check_images(specs: list[str], preset: str, model_config, train_config, cache: Path | None) -> int:
    """Refuse, with one line, data the preset cannot learn from: too few readable images, or images much
    smaller than the faces the preset draws (upscaled, they teach it blur). Returns the readable count."""
    size = model_config.image_size
    for spec in specs:
        sides = native_sizes(spec)
        if sides and statistics.median(sides) < size / 2:
            fitting = sorted(name for name, p in PRESETS.items()
                             if p.model_config.image_size <= statistics.median(sides) * 2 and "tiny" not in name)
            raise BuildError(f"the images in {spec} are about {statistics.median(sides):.0f} px; preset {preset} "
                             f"draws {size}×{size}: choose a preset of at most {int(statistics.median(sides) * 2)} px"
                             + (f" ({', '.join(fitting)})" if fitting else ""))
    try:
        data = load_image_data(specs, size, model_config.image_channels, test_fraction=train_config.test_fraction,
                               cache_dir=cache, seed=train_config.seed)
    except DataSourceError as error:
        raise BuildError(str(error)) from None
    if len(data) < MIN_IMAGES:
        raise BuildError(f"only {len(data)} readable images in {', '.join(specs)}: a build needs at least {MIN_IMAGES}")
    train_images = int((~data.is_test).sum())
    if train_images < train_config.batch_size:
        raise BuildError(f"only {train_images} training images: fewer than one batch of {train_config.batch_size} "
                         f"for preset {preset}; add images or choose a preset with smaller batches")
    log.info("data: %d readable images (%d to train on, %d held out to test)", len(data), train_images,
             len(data) - train_images)
    return len(data)


def train_namespace(args: argparse.Namespace, out: Path, resume: bool, **overrides) -> argparse.Namespace:
    """The arguments ``python -m trainer train`` would get."""
    options = {**({"epochs": args.epochs} if args.epochs else {}), **overrides}
    return argparse.Namespace(preset=args.preset, data=list(args.data), out=out, resume=resume, init_from=None,
                              no_cache=args.no_cache, cache_dir=args.cache_dir, device=args.device, **options)


def train_stage(args: argparse.Namespace, run_folder: Path, train_config, redo: bool) -> None:
    """Train, or go on from the run's last finished epoch; a run killed before its first epoch starts again."""
    from trainer.cli import run_train

    run = RunDir(run_folder)
    if redo:
        shutil.rmtree(run_folder, ignore_errors=True)
    try:
        checkpoint = run.latest_checkpoint()
    except CheckpointError:
        checkpoint = None
    if checkpoint is None:
        shutil.rmtree(run_folder, ignore_errors=True)  # a run stopped before its first epoch: nothing to keep
    else:
        epoch = run.load_training_state(checkpoint)["epoch"]
        log.info("going on from epoch %d of %d", epoch, train_config.epochs)
    run_train(train_namespace(args, run_folder, resume=checkpoint is not None))


def embed_stage(out: Path, specs: list[str], device: str, cache: Path | None, dcgan: bool, images: int,
                maps: tuple[str, ...]) -> None:
    from trainer.embed.pipeline import run_embed
    from trainer.embed.prior import fit_prior_for_checkpoint

    # A tag value needs 50 training faces for a direction (embed's default); a small folder gets by with fewer.
    atlas = run_embed(out, specs, device=device, cache_dir=cache, map_names=maps,
                      min_tag_count=min(50, max(10, images // 40)))
    if not dcgan:  # a VAE samples from a prior fitted to its codes (Ghosh et al. 2020); the app uses it
        try:
            fit_prior_for_checkpoint(out, atlas)
        except ValueError as error:  # too few codes for the mixture: the model still works from N(0, I)
            log.warning("no fitted prior: %s", error)


def estimate_build(args: argparse.Namespace, train_config, model_config, cache: Path | None,
                   stages: list[str]) -> float:
    """Time a few training steps here, then say how long the build should take. Returns the estimate in s."""
    from trainer.cli import run_train

    with tempfile.TemporaryDirectory(prefix="build-estimate-") as folder:
        started = time.perf_counter()
        summary = run_train(train_namespace(args, Path(folder) / "probe", resume=False, max_steps=PROBE_STEPS,
                                            eval_max_images=train_config.batch_size, epochs=1))
        probe_s = time.perf_counter() - started
    data = load_image_data(args.data, model_config.image_size, model_config.image_channels,
                           test_fraction=train_config.test_fraction, cache_dir=cache, seed=train_config.seed)
    train_images = int((~data.is_test).sum())
    speed = summary.get("train_images_per_s")
    if speed:
        # The probe's time beyond its timed steps: loading, one evaluation and one checkpoint, paid every epoch.
        epoch_s = train_images / speed + max(0.0, probe_s - PROBE_STEPS * train_config.batch_size / speed)
        measured = f"{speed:.0f} img/s measured here"
    else:  # an epoch of fewer steps than the probe's: the probe was one whole epoch
        epoch_s = probe_s
        speed = train_images / max(probe_s, 1e-3)
        measured = f"one epoch took {probe_s:.0f} s here"
    train_s = train_config.epochs * epoch_s
    # Encoding runs forward only (about a third of a training step); the maps (UMAP, t-SNE) add roughly
    # a second per thousand images on two cores, and UMAP compiles itself first (19 s measured on 2 cores).
    embed_s = len(data) / (3 * speed) + len(data) / 1000 + (UMAP_COMPILE_S if "umap" in args.maps else 0.0)
    invert_s = 2 * args.invert_steps * 128 / speed if "invert" in stages else 0.0
    total = train_s + embed_s + invert_s
    log.info("estimate: %s → training ≈ %s (%d epochs of %d images), embedding ≈ %s%s; "
             "the build ≈ %s", measured, duration(train_s), train_config.epochs, train_images, duration(embed_s),
             f", inversion ≈ {duration(invert_s)}" if invert_s else "", duration(total))
    return total


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def build_summary(out: Path, timings: dict[str, float]) -> dict:
    """Time per stage, the test figures, where the folder is and how to open it."""
    metrics = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").is_file() else {}
    test = metrics.get("test", {})
    figures = ", ".join(f"{label} {test[key]:.{digits}f}" for key, label, digits in (
        ("test_mse", "test MSE", 4), ("test_psnr", "PSNR dB", 2), ("test_d_real", "D(real)", 3))
        if isinstance(test.get(key), (int, float)))
    fid = metrics.get("evaluation", {}).get("generation", {}).get("fid")
    if fid is not None:
        figures += f", FID {fid:.1f}"
    shown = out if out.is_absolute() else Path(".") / out
    served = ("python app.py" if out.parent == Path("checkpoints") else f"python app.py --checkpoints {out.parent}")
    lines = ["build finished:", *(f"  {stage:<9} {duration(seconds)}" for stage, seconds in timings.items()),
             f"  total     {duration(sum(timings.values()))}",
             f"  figures   {figures or 'none measured'}",
             f"  folder    {shown}",
             f"  open it   {served}  (a running app: press 'Refresh models')"]
    return {"text": "\n".join(lines), "timings": timings, "test": test, "out": str(out)}
