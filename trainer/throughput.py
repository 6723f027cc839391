"""Images per second over the steady part of an epoch (the first steps warm up kernels and caches)."""

from __future__ import annotations

import time

import torch


class Throughput:
    def __init__(self, device: torch.device, warmup_steps: int = 2):
        self.device, self.warmup_steps = device, warmup_steps
        self.steps, self.images, self.started = 0, 0, None

    def step(self, images: int) -> None:
        self.steps += 1
        if self.steps == self.warmup_steps:
            self._sync()
            self.started = time.perf_counter()
        elif self.steps > self.warmup_steps:
            self.images += images

    def images_per_s(self) -> float | None:
        if self.started is None or self.images == 0:
            return None
        self._sync()
        return self.images / (time.perf_counter() - self.started)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
