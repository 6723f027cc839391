"""What a run leaves for people to look at: sample grids, the evolution strip, loss curves, metrics.csv."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import torch
from PIL import Image
from torchvision.utils import make_grid

from trainer.atomic import atomic_write


def grid_image(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> Image.Image:
    """(B, C, H, W) in [0, 1] → one PIL image, ``nrow`` images per row (default: square-ish)."""
    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(images)))))
    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)
    array = (grid.mul(255).add(0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy())
    return Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array)


def save_png(image: Image.Image, path: Path) -> None:
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG", optimize=True))


def save_evolution_strip(sample_dir: Path, path: Path, cell: int, per_row: int = 8, max_rows: int = 12) -> None:
    """The "evolution across epochs" figure of seed 000: one row per (evenly chosen) epoch, holding the
    first ``per_row`` fixed-latent samples of that epoch's grid (grids from ``grid_image``, padding 2)."""
    grids = sorted(sample_dir.glob("epoch_*.png"))
    if not grids:
        return
    if len(grids) > max_rows:
        picks = sorted({round(i * (len(grids) - 1) / (max_rows - 1)) for i in range(max_rows)})
        grids = [grids[i] for i in picks]
    pitch = cell + 2
    with Image.open(grids[0]) as first:
        mode, width = first.mode, min(first.width, 2 + per_row * pitch)
    strip = Image.new(mode, (width, 2 + len(grids) * pitch), "white")
    for i, grid_path in enumerate(grids):
        with Image.open(grid_path) as grid:
            strip.paste(grid.crop((0, 0, width, 2 + pitch)), (0, i * pitch))
    save_png(strip, path)


class MetricsLog:
    """metrics.csv: one row per epoch; on resume, rows after the resumed epoch are dropped."""

    def __init__(self, path: Path):
        self.path = path

    def rows(self) -> list[dict]:
        if not self.path.is_file():
            return []
        with open(self.path, newline="") as handle:
            return list(csv.DictReader(handle))

    def truncate_after(self, epoch: int) -> None:
        self._write([r for r in self.rows() if int(r["epoch"]) <= epoch])

    def append(self, row: dict) -> None:
        self._write(self.rows() + [{k: _format(v) for k, v in row.items()}])

    def _write(self, rows: list[dict]) -> None:
        fields = list(dict.fromkeys(k for r in rows for k in r))

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=fields)
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(self.path, write)


def _format(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def save_loss_curves(rows: list[dict], path: Path, series: list[str], title: str) -> None:
    """Per-epoch loss curves from metrics.csv rows (matplotlib, headless Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3.2), squeeze=False)
    epochs = [int(r["epoch"]) for r in rows]
    for axis, name in zip(axes[0], series):
        for split in ("train", "test"):
            key = f"{split}_{name}"
            values = [float(r[key]) if r.get(key) not in (None, "") else math.nan for r in rows]
            if any(not math.isnan(v) for v in values):
                axis.plot(epochs, values, marker="o", markersize=3, label=split)
        axis.set_title(name.replace("_", " "))
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))
