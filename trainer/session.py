"""What both training loops share: start or resume a run, hold the data on the device, finish an epoch."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from trainer import artifacts, continuation
from trainer.atomic import atomic_write_json
from trainer.config import TrainConfig
from trainer.data import EpochBatches, ImageData, load_image_data
from trainer.models.checkpoint import CheckpointError, read_checkpoint_config
from trainer.run_dir import RunDir
from trainer.running_means import RunningMeans
from trainer.runtime import Runtime, gather_checksums, start_runtime
from trainer.throughput import Throughput

log = logging.getLogger("trainer")


def fixed_latent(seed: int, count: int, latent_dim: int) -> torch.Tensor:
    """The same z for every epoch of a run (seed 000's "evolution across epochs"; dcgan's fixed_noise), and
    for the sample grid ``export`` draws from the stored weights."""
    return torch.randn(count, latent_dim, generator=torch.Generator().manual_seed(seed))


@dataclass
class Session:
    preset: str
    train: TrainConfig
    runtime: Runtime
    run: RunDir
    data: ImageData
    images: torch.Tensor  # the whole uint8 dataset, on the run's device
    model: torch.nn.Module
    start_epoch: int = 0
    global_step: int = 0
    optimizer_states: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    previous_wall_s: float = 0.0  # training time spent before this process resumed the run
    continued_from: list[dict] = field(default_factory=list)  # shipped checkpoints this run went on from
    throughput: list[float] = field(default_factory=list)

    @property
    def train_indices(self) -> torch.Tensor:
        return self.data.split_indices("train")

    @property
    def test_indices(self) -> torch.Tensor:
        indices = self.data.split_indices("test")
        return indices[: self.train.eval_max_images] if self.train.eval_max_images else indices

    def epoch_batches(self, epoch: int, value_range: tuple[float, float]) -> EpochBatches:
        per_rank = self.train.batch_size // self.runtime.world_size
        return EpochBatches(
            self.images, self.train_indices, per_rank, seed=self.train.seed, epoch=epoch, flip=self.train.flip,
            value_range=value_range, rank=self.runtime.rank, world_size=self.runtime.world_size,
            channels_last=self.runtime.channels_last,
        )

    def fixed_latent(self, latent_dim: int) -> torch.Tensor:
        return fixed_latent(self.train.seed, self.train.sample_count, latent_dim).to(self.runtime.device)

    @torch.no_grad()
    def decode_fixed(self, z: torch.Tensor, stand_in: torch.nn.Module | None = None) -> torch.Tensor:
        """Images in [0, 1] from the model in eval mode (BatchNorm running statistics, as served);
        ``stand_in``: a weight average to draw with instead: a DCGAN generator (images in [−1, 1]) or a VAE."""
        module = stand_in if stand_in is not None else self.model
        was_training = module.training
        module.eval()
        with self.runtime.autocast():
            images = (module.decode(z) if hasattr(module, "decode") else (module(z) + 1) / 2).float()
        module.train(was_training)
        return images

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """DistributedDataParallel when launched by torchrun; the module itself otherwise."""
        if not self.runtime.distributed:
            return module
        device_ids = [self.runtime.device.index] if self.runtime.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids)

    def wall_time_s(self) -> float:
        """Training wall time summed over every process that worked on this run (resumes included)."""
        return round(self.previous_wall_s + time.perf_counter() - self.started, 1)

    def reached_max_steps(self) -> bool:
        return bool(self.train.max_steps) and self.global_step >= self.train.max_steps

    def epoch_bar(self, epoch: int, batches: EpochBatches) -> tqdm:
        """The epoch's progress bar, counted in images over every rank; rank 0 shows it."""
        images = len(batches) * batches.batch_size * self.runtime.world_size
        return tqdm(total=images, unit="img", unit_scale=True, desc=f"epoch {epoch + 1}/{self.train.epochs}",
                    disable=not self.runtime.is_main, leave=False)

    def training_row(self, meter: Throughput, figures: RunningMeans, with_r1: bool) -> tuple[dict, float | str]:
        """The epoch's training means as metrics columns (``train_…``), and its images/s for the row's last
        column (blank when the epoch was too short to time); the speed also counts towards the run's summary."""
        speed = meter.images_per_s()
        if speed:
            self.throughput.append(speed)
        row = {f"train_{k}": v for k, v in figures.means().items()}
        if with_r1:
            row.setdefault("train_r1", "")  # R1 is the mean over the steps that had it; an epoch may have none
        return row, round(speed, 1) if speed else ""

    def finish_epoch(self, epoch: int, row: dict, optimizers: dict, samples: torch.Tensor,
                     reconstructions: torch.Tensor | None, curves: list[str]) -> None:
        """Rank 0 writes the epoch's grids, metrics row, curves and checkpoint; every rank waits for it."""
        if self.runtime.is_main:
            number = epoch + 1
            artifacts.save_png(artifacts.grid_image(samples), self.run.samples / f"epoch_{number:03d}.png")
            artifacts.save_evolution_strip(self.run.samples, self.run.root / "evolution.png",
                                           cell=samples.shape[-1])
            if reconstructions is not None:  # holds dataset images: stays in the run folder, never shipped
                artifacts.save_png(artifacts.grid_image(reconstructions, nrow=8),
                                   self.run.reconstructions / f"epoch_{number:03d}.png")
            metrics = artifacts.MetricsLog(self.run.metrics)
            metrics.append({"epoch": number, "global_step": self.global_step, **row,
                            "wall_time_s": self.wall_time_s()})
            artifacts.save_loss_curves(metrics.rows(), self.run.root / "loss_curves.png", curves,
                                       f"{self.preset}: per-epoch losses")
            self.run.save_checkpoint(self.model, optimizers, number, self.global_step, self.checkpoint_meta(number),
                                     wall_time_s=self.wall_time_s())
            log.info("epoch %d/%d  %s", number, self.train.epochs,
                     "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
        self.runtime.barrier()

    def save_epoch_zero_samples(self, samples: torch.Tensor) -> None:
        """The untrained model's view of the fixed latent: the first frame of the evolution strip."""
        if self.runtime.is_main and self.start_epoch == 0:
            artifacts.save_png(artifacts.grid_image(samples), self.run.samples / "epoch_000.png")

    def checkpoint_meta(self, epochs_done: int) -> dict:
        return {
            "training": {"preset": self.preset, "epochs": epochs_done, "global_step": self.global_step,
                         "train_config": dataclasses.asdict(self.train),
                         "device": str(self.runtime.device), "world_size": self.runtime.world_size,
                         "hardware": self.runtime.hardware(), "precision": str(self.runtime.dtype or "fp32"),
                         "torch_version": torch.__version__, "wall_time_s": self.wall_time_s(),
                         **({"continued_from": self.continued_from} if self.continued_from else {})},
            "data": {"sources": self.data.provenance, "images": len(self.data),
                     "train_images": int((~self.data.is_test).sum()), "test_images": int(self.data.is_test.sum()),
                     "split": "; ".join(sorted({p["split"] for p in self.data.provenance}))},
        }

    def finish(self, final_row: dict) -> dict:
        """Write summary.json (wall time, images/s, whether all ranks hold identical weights)."""
        checksums = gather_checksums(self.runtime, self.model)
        summary = {
            "preset": self.preset, "epochs_done": self.train.epochs if not self.reached_max_steps() else None,
            "global_step": self.global_step, "wall_time_s": self.wall_time_s(),
            "train_images_per_s": round(sum(self.throughput) / len(self.throughput), 1) if self.throughput else None,
            "device": str(self.runtime.device), "precision": str(self.runtime.dtype or "fp32"),
            "world_size": self.runtime.world_size, "rank_weight_checksums": checksums,
            "ranks_in_sync": len(set(checksums)) == 1, "final": final_row,
        }
        if self.runtime.is_main:
            atomic_write_json(self.run.root / "summary.json", summary)
        return summary


def start_session(preset: str, train: TrainConfig, model_config, model_class, data_specs: list[str],
                  out: Path, resume: bool = False, cache_dir: Path | None = None,
                  init_from: Path | None = None) -> Session:
    """Create the run (or reopen it for --resume), load the data once and place it on the device.
    ``init_from``: a shipped checkpoint folder whose weights and epoch count a new run goes on from."""
    runtime = start_runtime(train.device, train.precision, train.channels_last)
    run = RunDir(out)
    continued_from: list[dict] = []
    if resume:
        checkpoint = run.latest_checkpoint()
        state = run.load_training_state(checkpoint)
        model = load_matching(model_class, checkpoint, model_config)
        start_epoch, global_step, optimizer_states = state["epoch"], state["global_step"], state["optimizers"]
        previous_wall_s = float(state.get("wall_time_s", 0.0))
        continued_from = continuation.lineage(read_checkpoint_config(checkpoint))
    else:
        if (run.checkpoint / "config.json").exists():
            raise CheckpointError(f"{out} already holds a run: pass --resume to continue it, or choose a new --out")
        start_epoch, global_step, optimizer_states, previous_wall_s = 0, 0, {}, 0.0
        if init_from is None:
            torch.manual_seed(train.seed)  # identical initial weights on every rank and every rerun
            model = model_class(model_config)
        else:
            origin = continuation.read_origin(init_from)
            model = load_matching(model_class, init_from, model_config)
            entry = continuation.origin_entry(init_from, origin)
            start_epoch, global_step = entry["epochs"], entry["global_step"]
            previous_wall_s = float(origin["training"].get("wall_time_s") or 0.0)
            continued_from = continuation.lineage(origin) + [entry]
            if train.epochs <= start_epoch:
                raise ValueError(f"{init_from} was trained for {start_epoch} epochs: "
                                 f"--epochs must be more than that")
            if runtime.is_main:
                restored = continuation.seed_run_history(init_from, run.samples, run.metrics)
                log.info("continuing %s from epoch %d (fresh optimizer state; %d evolution rows restored)",
                         init_from, start_epoch, restored)
    data = load_image_data(data_specs, model_config.image_size, model_config.image_channels,
                           test_fraction=train.test_fraction, max_images=train.max_images or None,
                           cache_dir=cache_dir, seed=train.seed)
    if int((~data.is_test).sum()) < train.batch_size:
        raise ValueError(f"only {int((~data.is_test).sum())} training images: fewer than one batch of {train.batch_size}")
    if runtime.is_main:
        run.save_run_config(preset, train, model_config, data_specs)
        artifacts.MetricsLog(run.metrics).truncate_after(start_epoch)
        log.info("data: %d images (%d train / %d test) from %s", len(data), int((~data.is_test).sum()),
                 int(data.is_test.sum()), ", ".join(p["spec"] for p in data.provenance))
    model = model.to(runtime.device).train()
    if runtime.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return Session(preset, train, runtime, run, data, data.images.to(runtime.device), model,
                   start_epoch, global_step, optimizer_states, previous_wall_s=previous_wall_s,
                   continued_from=continued_from)


def load_matching(model_class, folder: Path, model_config) -> torch.nn.Module:
    """The model in ``folder``, which must have this run's architecture."""
    model = model_class.from_pretrained(folder)
    if dataclasses.asdict(model.config) != dataclasses.asdict(model_config):
        raise CheckpointError(f"{folder} holds a different architecture than this run's config")
    return model


def read_run_config(out: Path) -> dict:
    return json.loads((Path(out) / "run_config.json").read_text())
