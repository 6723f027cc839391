"""``python -m trainer {build,train,invert,embed,fit-prior,export,evaluate,results,sample}``: options are derived from the config dataclasses' fields."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
from pathlib import Path

import torch

from trainer.build import add_build_parser
from trainer.config import PRESETS, TrainConfig, build_configs
from trainer.data import DataSourceError
from trainer.models import CheckpointError, ConvVAE, DCGAN, DCGANConfig, VAEConfig, load_model

# What an interrupted command leaves behind (every other command writes its files only at the end).
INTERRUPTED = {"train": "the last completed epoch is saved; continue with --resume",
               "build": "what was finished is kept; run the same command again to continue"}

# Options that may change when a run is resumed; anything else must match the run's saved config.
# ema_decay: the average only watches G, it never changes the G/D trajectory.
# r1_gamma, r1_interval: a regulariser that holds no state, to switch on when a resumed run's discriminator
# starts to win. lr_decay_epochs: a schedule computed from the epoch alone, to switch on when a run stops improving.
RESUMABLE = {"epochs", "device", "precision", "max_steps", "eval_max_images", "ema_decay", "r1_gamma", "r1_interval",
             "lr_decay_epochs"}


def add_dataclass_options(parser: argparse.ArgumentParser, classes) -> None:
    """One ``--field-name`` per dataclass field; defaults stay in the dataclass (argparse default: unset)."""
    seen = set()
    for cls in classes:
        for field in dataclasses.fields(cls):
            if field.name in seen:
                continue
            seen.add(field.name)
            flag, default = "--" + field.name.replace("_", "-"), field.default
            help_text = f"(default: preset's, else {default!r})"
            if isinstance(default, bool):
                parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                                    help=help_text)
            elif isinstance(default, tuple):
                parser.add_argument(flag, type=int, nargs="+", default=argparse.SUPPRESS, help=help_text)
            else:
                parser.add_argument(flag, type=type(default), default=argparse.SUPPRESS, help=help_text)


def add_cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/data"),
                        help="where decoded uint8 images are cached between runs (default: .cache/data)")
    parser.add_argument("--no-cache", action="store_true", help="decode the sources without the disk cache")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Seed, device, precision and the data cache, for the commands that are not driven by TrainConfig."""
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    add_cache_options(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__.replace("``", ""))  # plain text
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a VAE or DCGAN; checkpoints every epoch")
    train.add_argument("--preset", choices=sorted(PRESETS), help="named configuration (required for a new run)")
    train.add_argument("--data", action="append", default=[], metavar="SOURCE",
                       help="folder, .zip, synthetic[:COUNT] or fashion-mnist[:DIR]; repeat for several")
    train.add_argument("--out", type=Path, required=True, help="run folder (checkpoint/, samples/, metrics.csv)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                       help="start a new run from a shipped checkpoint folder's weights, counting on from its "
                            "epochs with its preset, data and settings (optimizer state starts fresh)")
    add_cache_options(train)
    add_dataclass_options(train, [TrainConfig, VAEConfig, DCGANConfig])

    embed = commands.add_parser("embed", help="encode a dataset into the checkpoint's latent atlas")
    embed.add_argument("--checkpoint", type=Path, required=True, help="checkpoint folder to embed with and into")
    embed.add_argument("--data", action="append", default=[], metavar="SOURCE", help="as for train; repeatable")
    embed.add_argument("--maps", nargs="+", default=["umap", "tsne", "pca"], help="2-D maps to compute")
    embed.add_argument("--clusters", type=int, default=16, help="k-means cluster count (default 16)")
    embed.add_argument("--min-tag-count", type=int, default=50,
                       help="training examples a tag value needs to get a direction (default 50)")
    embed.add_argument("--max-images", type=int, default=None, help="embed only the first N images")
    embed.add_argument("--prior-components", type=int, default=10,
                       help="VAE: Gaussians in the fitted latent prior written after the atlas (0: none; default 10)")
    add_run_options(embed)

    prior = commands.add_parser("fit-prior", help="VAE: fit a Gaussian-mixture latent prior to the atlas's "
                                "encoded training faces (sampled instead of N(0, I); Ghosh et al. 2020)")
    prior.add_argument("--checkpoint", type=Path, required=True, help="VAE checkpoint folder with an atlas")
    prior.add_argument("--components", type=int, default=10, help="mixture components (default 10)")
    prior.add_argument("--seed", type=int, default=0)

    invert = commands.add_parser("invert", help="train a DCGAN checkpoint's inversion encoder (image → z)")
    invert.add_argument("--checkpoint", type=Path, required=True, help="DCGAN checkpoint folder")
    invert.add_argument("--data", action="append", default=[], metavar="SOURCE", help="real faces; repeatable")
    invert.add_argument("--synthetic-steps", type=int, default=3000, help="steps on generated pairs (G(z), z)")
    invert.add_argument("--real-steps", type=int, default=3000, help="steps on real faces")
    invert.add_argument("--batch-size", type=int, default=128)
    invert.add_argument("--dtype", choices=["float16", "float32"], default="float16", help="stored weights")
    add_run_options(invert)

    export = commands.add_parser("export", help="make a shipped checkpoint folder from a training run")
    export.add_argument("--run", type=Path, required=True, help="run folder written by train")
    export.add_argument("--out", type=Path, required=True, help="checkpoint folder to write, e.g. checkpoints/NAME")
    export.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    export.add_argument("--force", action="store_true", help="replace a shipped model even if not better")
    export.add_argument("--note", help="why training stopped at this epoch (goes into the model card)")

    evaluate = commands.add_parser("evaluate", help="FID/KID/precision-recall, reconstruction and "
                                   "disentanglement figures into the checkpoint's metrics.json and card")
    evaluate.add_argument("--checkpoint", type=Path, required=True, help="checkpoint folder to evaluate")
    evaluate.add_argument("--data", action="append", default=[], metavar="SOURCE", help="as for train; repeatable")
    evaluate.add_argument("--num-samples", type=int, default=10_000,
                          help="generated samples, and real reference images at most (default 10000)")
    evaluate.add_argument("--reference", choices=["train", "test"], default="train",
                          help="split the samples are compared with (default train, as FID is usually reported)")
    evaluate.add_argument("--max-images", type=int, default=None, help="read only the first N images")
    evaluate.add_argument("--feature-cache", type=Path, default=Path(".cache/features"),
                          help="where reference Inception features are cached (default .cache/features)")
    evaluate.add_argument("--temperatures", type=float, nargs="+", default=[], metavar="T",
                          help="also measure samples drawn at these temperatures (z's spread scaled by T, as the "
                               "app's slider does; from the fitted prior where the folder has one)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    add_cache_options(evaluate)

    add_build_parser(commands)

    results = commands.add_parser("results", help="print the Markdown results table of evaluated checkpoints")
    results.add_argument("--checkpoints", type=Path, default=Path("checkpoints"), help="folder of checkpoints")

    sample = commands.add_parser("sample", help="write a grid of samples from a checkpoint folder")
    sample.add_argument("--checkpoint", type=Path, required=True)
    sample.add_argument("--out", type=Path, required=True, help="PNG file to write")
    sample.add_argument("--count", type=int, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--temperature", type=float, default=1.0, help="scale of z; < 1 truncates")
    sample.add_argument("--prior", choices=["normal", "fitted"], default="normal",
                        help="draw z from N(0, I) or from the folder's fitted latent prior (VAE; see fit-prior)")
    return parser


def overrides_from(args: argparse.Namespace) -> dict:
    names = {f.name for cls in (TrainConfig, VAEConfig, DCGANConfig) for f in dataclasses.fields(cls)}
    return as_options({k: v for k, v in vars(args).items() if k in names})


def as_options(values: dict) -> dict:
    """Config values as the dataclasses take them (JSON and argparse give lists where fields hold tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def run_train(args: argparse.Namespace) -> dict:
    from trainer.session import read_run_config, start_session
    from trainer.train_dcgan import train_dcgan
    from trainer.train_vae import train_vae

    overrides = overrides_from(args)
    data = args.data
    if args.resume and args.init_from is not None:
        raise ValueError("--resume continues a run folder, --init-from starts a new one: pass only one")
    if args.resume:
        saved = read_run_config(args.out) if (args.out / "run_config.json").is_file() else None
        if saved is None:
            raise CheckpointError(f"nothing to resume in {args.out}: no run_config.json")
        if args.preset and args.preset != saved["preset"]:
            raise ValueError(f"{args.out} was trained with --preset {saved['preset']}, not {args.preset}")
        if data and data != saved["data"]:
            raise ValueError(f"{args.out} was trained on {saved['data']}; resume with the same --data (or none)")
        fixed = {**saved["model"], **{k: v for k, v in saved["train"].items() if k not in RESUMABLE}}
        changed = sorted(k for k, v in overrides.items() if k in fixed and _jsonish(v) != _jsonish(fixed[k]))
        if changed:
            raise ValueError(f"cannot change {', '.join('--' + k.replace('_', '-') for k in changed)} on resume "
                             f"(only {', '.join(sorted(RESUMABLE))})")
        preset, data = saved["preset"], saved["data"]
        overrides = {**fixed, **{k: v for k, v in saved["train"].items() if k in RESUMABLE}, **overrides}
        overrides = as_options(overrides)
    elif args.init_from is not None:
        preset, data, overrides = continuation_settings(args.init_from, args.preset, data, overrides)
    else:
        if not args.preset:
            raise ValueError("--preset is required for a new run (or pass --resume)")
        preset = args.preset
    train_config, model_config = build_configs(preset, overrides)
    model_class = DCGAN if train_config.model == "dcgan" else ConvVAE
    if not isinstance(model_config, model_class.config_class):
        raise ValueError(f"preset {preset} builds a {type(model_config).__name__}, not a {train_config.model}")
    session = start_session(preset, train_config, model_config, model_class, data, args.out, args.resume,
                            None if args.no_cache else args.cache_dir, init_from=args.init_from)
    try:
        summary = (train_dcgan if train_config.model == "dcgan" else train_vae)(session)
    finally:
        from trainer.runtime import stop_runtime

        stop_runtime(session.runtime)
    if session.runtime.is_main:
        logging.getLogger("trainer").info(
            "done: %s steps, %.1f s, %s; checkpoint in %s", summary["global_step"], summary["wall_time_s"],
            f"{summary['train_images_per_s']} img/s" if summary["train_images_per_s"] else "too few steps to time",
            session.run.checkpoint)
    return summary


def continuation_settings(checkpoint: Path, preset: str | None, data: list[str], overrides: dict):
    """Preset, data and options for ``--init-from``: the checkpoint's own, with training options (not the
    architecture) overridable on the command line."""
    from trainer.continuation import read_origin

    origin = read_origin(checkpoint)
    training = origin["training"]
    if preset and preset != training["preset"]:
        raise ValueError(f"{checkpoint} was trained with --preset {training['preset']}, not {preset}")
    changed = sorted(k for k, v in overrides.items()
                     if k in origin["config"] and _jsonish(v) != _jsonish(origin["config"][k]))
    if changed:
        raise ValueError(f"cannot change {', '.join('--' + k.replace('_', '-') for k in changed)} of the "
                         f"architecture in {checkpoint}")
    known = {f.name for f in dataclasses.fields(TrainConfig)}  # a key an older version wrote is dropped
    saved = {**origin["config"], **{k: v for k, v in training["train_config"].items() if k in known}}
    merged = {**saved, **overrides}
    return (training["preset"], data or [s["spec"] for s in origin["data"]["sources"]],
            as_options(merged))


def _jsonish(value):
    return list(value) if isinstance(value, tuple) else value


def run_embed(args: argparse.Namespace) -> None:
    from trainer.embed.pipeline import run_embed as embed

    from trainer.embed.prior import fit_prior_for_checkpoint

    if args.clusters < 1 or args.min_tag_count < 1 or (args.max_images is not None and args.max_images < 1):
        raise ValueError("--clusters, --min-tag-count and --max-images must be at least 1")
    if args.prior_components < 0:
        raise ValueError("--prior-components must be >= 0")
    atlas = embed(args.checkpoint, args.data, device=args.device, precision=args.precision,
                  cluster_count=args.clusters, map_names=tuple(args.maps), seed=args.seed,
                  max_images=args.max_images, cache_dir=None if args.no_cache else args.cache_dir,
                  min_tag_count=args.min_tag_count)
    if args.prior_components and isinstance(load_model(args.checkpoint), ConvVAE):
        fit_prior_for_checkpoint(args.checkpoint, atlas, args.prior_components, args.seed)


def run_sample(args: argparse.Namespace) -> None:
    from trainer.artifacts import grid_image, save_png

    if not 1 <= args.count <= 1024:
        raise ValueError("--count must be 1..1024")
    from trainer.models.latent_prior import load_latent_prior, valid_temperature

    if not valid_temperature(args.temperature):
        raise ValueError("--temperature must lie in (0, 2]")
    model = load_model(args.checkpoint)
    generator = torch.Generator().manual_seed(args.seed)
    if args.prior == "fitted":
        z = load_latent_prior(args.checkpoint).sample(args.count, generator, args.temperature)
        with torch.no_grad():
            images = model.decode(z).clamp(0, 1)
    else:
        images = model.sample(args.count, generator=generator, temperature=args.temperature)
    save_png(grid_image(images), args.out)
    print(f"wrote {args.count} samples to {args.out}")


def results_table_of(folder: Path) -> str:
    from trainer.metrics.report import results_table
    from trainer.models.records import evaluated, results_rows

    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of checkpoints")
    return results_table(results_rows(evaluated(folder)))


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


def make_interruptible() -> None:
    """A job started in the background by a non-interactive shell (``cmd &``, nohup scripts) inherits SIGINT
    as ignored; restore it so ``kill -INT`` stops a long run cleanly instead of needing SIGKILL."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    args = build_parser().parse_args(argv)
    make_interruptible()
    try:
        if args.command == "train":
            run_train(args)
        elif args.command == "embed":
            run_embed(args)
        elif args.command == "fit-prior":
            from trainer.embed.prior import fit_prior_for_checkpoint

            fit_prior_for_checkpoint(args.checkpoint, components=args.components, seed=args.seed)
        elif args.command == "invert":
            from trainer.train_inversion import train_inversion

            if args.synthetic_steps < 0 or args.real_steps < 0 or args.batch_size < 2:
                raise ValueError("--synthetic-steps and --real-steps must be >= 0, --batch-size >= 2")
            train_inversion(args.checkpoint, args.data, synthetic_steps=args.synthetic_steps,
                            real_steps=args.real_steps, batch_size=args.batch_size, seed=args.seed,
                            device=args.device, precision=args.precision,
                            cache_dir=None if args.no_cache else args.cache_dir, dtype=args.dtype)
        elif args.command == "export":
            from trainer.export import export_run

            export_run(args.run, args.out, args.dtype, args.force, args.note)
        elif args.command == "evaluate":
            from trainer.evaluate import run_evaluate

            if args.max_images is not None and args.max_images < 2:
                raise ValueError("--max-images must be at least 2")
            run_evaluate(args.checkpoint, args.data, num_samples=args.num_samples, reference=args.reference,
                         device=args.device, seed=args.seed, data_cache=None if args.no_cache else args.cache_dir,
                         feature_cache=None if args.no_cache else args.feature_cache, max_images=args.max_images,
                         temperatures=tuple(args.temperatures))
        elif args.command == "build":
            from trainer.build import run_build

            run_build(args)
        elif args.command == "results":
            print(results_table_of(args.checkpoints))
        elif args.command == "sample":
            run_sample(args)
    except (DataSourceError, CheckpointError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C can land inside a progress bar's constructor; tqdm's __del__ then fails on the half-built bar
        # as it is collected. The run is already saved and reported: keep that teardown noise off the screen.
        sys.unraisablehook = lambda unraisable: None
        print(f"interrupted: {INTERRUPTED.get(args.command, 'nothing was written')}", file=sys.stderr)
        return 130
    return 0
