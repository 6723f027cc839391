"""Inception feature extraction throughput for FID/KID (the slow half of `python -m trainer evaluate`).

Ours (`trainer.metrics.inception.InceptionFeatures`: uint8 → resize → channels_last, inference mode) beside
a baseline written the way pytorch-fid's loop runs (float NCHW batches, contiguous layout, no_grad), on the
same network, the same images and the same threads, in one run; prints images/s for each and the ratio, and
the largest feature difference between the two (the layout must not change the figures).

    python benchmarks/fid_features.py [--images 256] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from trainer.data.synthetic import synthetic_faces
from trainer.metrics.inception import INPUT_SIZE, InceptionFeatures


@torch.no_grad()
def baseline(network, images: torch.Tensor, batch_size: int) -> np.ndarray:
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].float() / 255.0
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        out.append(network(2 * x - 1).double().numpy())
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    faces = [np.asarray(image) for _, image, _, _ in synthetic_faces(args.images, 64)]
    images = torch.from_numpy(np.stack(faces)).permute(0, 3, 1, 2).contiguous()
    ours = InceptionFeatures("cpu", batch_size=args.batch_size)
    ours(images[: args.batch_size])  # warm-up: oneDNN primitives for both layouts
    baseline(ours.network, images[: args.batch_size], args.batch_size)
    started = time.perf_counter()
    base_features = baseline(ours.network, images, args.batch_size)
    base_rate = len(images) / (time.perf_counter() - started)
    started = time.perf_counter()
    our_features = ours(images)
    our_rate = len(images) / (time.perf_counter() - started)
    print(f"{args.images} images 64×64 → 299×299, batch {args.batch_size}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"baseline (pytorch-fid style, NCHW)  {base_rate:7.1f} img/s")
    print(f"ours (channels_last)               {our_rate:7.1f} img/s   ratio {our_rate / base_rate:.2f}x")
    print(f"largest feature difference {np.abs(our_features - base_features).max():.2e} "
          f"(features up to {np.abs(base_features).max():.1f})")


if __name__ == "__main__":
    main()
