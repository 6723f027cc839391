"""Training throughput: our trainer against a baseline written the way pytorch/examples dcgan/main.py trains.

Both train the same model on the same images on this machine, in one run:
  baseline  torchvision ImageFolder over the JPEG files + DataLoader(workers=2), eager fp32, NCHW
  ours      `trainer` itself (train_vae / train_dcgan through start_session): the uint8 dataset decoded
            once into memory, batches by index_select, channels_last, bf16 autocast where the CPU has it
Prints steady-state images/s for each (warm-up steps excluded) and the ratio.

    python benchmarks/train_throughput.py [--model vae|dcgan] [--images 4096] [--steps 40]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import zipfile
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from trainer.config import build_configs
from trainer.data.synthetic import synthetic_faces
from trainer.losses import d_loss_fake, d_loss_real, g_loss, vae_loss
from trainer.models import ConvVAE, DCGAN
from trainer.session import start_session
from trainer.train_dcgan import train_dcgan
from trainer.train_vae import train_vae

DEFAULT_ZIP = Path(__file__).resolve().parents[1].parent / "shared/data/anime-faces-tagged-64.zip"
WARMUP = 3


def extract_images(folder: Path, count: int, source: Path) -> str:
    """ImageFolder layout (one class folder) with ``count`` real faces, or synthetic ones without the data."""
    target = folder / "faces"
    target.mkdir(parents=True)
    if source.is_file():
        with zipfile.ZipFile(source) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))[:count]
            for name in names:
                (target / Path(name).name).write_bytes(archive.read(name))
        return f"{len(names)} JPEGs from {source.name}"
    for index, image, _, _ in synthetic_faces(count, 64):
        image.save(target / f"{index}.jpg", quality=95)
    return f"{count} synthetic faces (JPEG; {source} not found)"


def baseline(model_name: str, folder: Path, steps: int, batch_size: int) -> float:
    """pytorch/examples dcgan/main.py's recipe: ImageFolder + Resize/CenterCrop/ToTensor, DataLoader, eager."""
    torch.manual_seed(0)
    to_tensor = [transforms.Resize(64), transforms.CenterCrop(64), transforms.ToTensor()]
    if model_name == "dcgan":
        to_tensor.append(transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))
    dataset = datasets.ImageFolder(root=str(folder), transform=transforms.Compose(to_tensor))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2, drop_last=True)
    if model_name == "vae":
        model = ConvVAE(build_configs("vae-anime64", {})[1]).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        model = DCGAN(build_configs("dcgan-anime64", {})[1]).train()
        opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(model.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    done, images, started = 0, 0, None
    while done < steps + WARMUP:
        for x, _ in loader:
            if model_name == "vae":
                recon, mu, logvar = model(x)
                loss = vae_loss(recon, x, mu, logvar, beta=1 / 4096)[0]
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            else:
                model.discriminator.zero_grad()
                d_loss_real(model.discriminator(x)).backward()
                fake = model.generator(torch.randn(len(x), model.latent_dim))
                d_loss_fake(model.discriminator(fake.detach())).backward()
                opt_d.step()
                model.generator.zero_grad()
                g_loss(model.discriminator(fake)).backward()
                opt_g.step()
            done += 1
            if done == WARMUP:
                started = time.perf_counter()
            elif done > WARMUP:
                images += len(x)
            if done >= steps + WARMUP:
                break
    return images / (time.perf_counter() - started)


def ours(model_name: str, folder: Path, steps: int, batch_size: int, run: Path) -> tuple[float, float]:
    """The real trainer for the same number of steps; returns (steady images/s, one-off decode seconds)."""
    preset = "vae-anime64" if model_name == "vae" else "dcgan-anime64"
    train_config, model_config = build_configs(preset, {
        "batch_size": batch_size, "max_steps": steps + WARMUP, "epochs": 1000, "eval_max_images": 256,
        "test_fraction": 0.01,
    })
    started = time.perf_counter()
    session = start_session(preset, train_config, model_config, DCGAN if model_name == "dcgan" else ConvVAE,
                            [str(folder)], run)
    decode_s = time.perf_counter() - started
    summary = (train_dcgan if model_name == "dcgan" else train_vae)(session)
    return summary["train_images_per_s"], decode_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["vae", "dcgan"], default="vae")
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per side (after warm-up)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data", type=Path, default=DEFAULT_ZIP)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        described = extract_images(Path(tmp) / "folder", args.images, args.data)
        print(f"model {args.model}, batch {args.batch_size}, {described}, torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads")
        base = baseline(args.model, Path(tmp) / "folder", args.steps, args.batch_size)
        print(f"baseline (ImageFolder + DataLoader, eager fp32): {base:8.1f} img/s")
        mine, decode_s = ours(args.model, Path(tmp) / "folder", args.steps, args.batch_size, Path(tmp) / "run")
        print(f"ours     (trainer, uint8 in memory, channels_last + autocast): {mine:8.1f} img/s "
              f"(+ {decode_s:.1f} s one-off decode of {args.images} images)")
        print(f"ratio ours / baseline: {mine / base:.2f}x")


if __name__ == "__main__":
    main()
