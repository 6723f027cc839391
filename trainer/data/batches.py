"""Shuffled mini-batches straight from the in-memory uint8 tensor (on the GPU when there is one).

No DataLoader, no per-image Python: one index_select per batch, the flip augmentation as a tensor op.
The order of epoch e depends only on (seed, e), so a resumed run sees exactly the batches an
uninterrupted run would; under DistributedDataParallel rank r takes every world_size-th index.
"""

from __future__ import annotations

from typing import Iterator

import torch


def epoch_generator(seed: int, epoch: int, stream: int = 0) -> torch.Generator:
    """A CPU generator for one (seed, epoch, stream): data order uses stream 0, model noise others."""
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 1_009 + stream) % 2**63)


def to_float(batch: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    low, high = value_range
    return batch.float().mul_((high - low) / 255.0).add_(low)


class EpochBatches:
    def __init__(
        self, images: torch.Tensor, indices: torch.Tensor, batch_size: int, *, seed: int, epoch: int,
        flip: bool = False, value_range: tuple[float, float] = (0.0, 1.0), rank: int = 0, world_size: int = 1,
        channels_last: bool = False,
    ):
        generator = epoch_generator(seed, epoch)
        order = indices[torch.randperm(len(indices), generator=generator)]
        per_rank = len(order) // world_size  # equal shards: every rank runs the same number of steps
        self.order = order[rank * per_rank : (rank + 1) * per_rank]
        self.flips = torch.rand(len(order), generator=generator)[rank * per_rank : (rank + 1) * per_rank] < 0.5
        self.images, self.batch_size = images, batch_size
        self.flip, self.value_range, self.channels_last = flip, value_range, channels_last

    def __len__(self) -> int:
        return len(self.order) // self.batch_size  # drop the ragged last batch (BatchNorm dislikes tiny ones)

    def __iter__(self) -> Iterator[torch.Tensor]:
        device = self.images.device
        for step in range(len(self)):
            window = slice(step * self.batch_size, (step + 1) * self.batch_size)
            batch = to_float(self.images.index_select(0, self.order[window].to(device)), self.value_range)
            if self.flip:
                flip = self.flips[window].to(device).view(-1, 1, 1, 1)
                batch = torch.where(flip, batch.flip(3), batch)
            if self.channels_last:
                batch = batch.contiguous(memory_format=torch.channels_last)
            yield batch


def eval_batches(images: torch.Tensor, indices: torch.Tensor, batch_size: int,
                 value_range: tuple[float, float] = (0.0, 1.0)) -> Iterator[torch.Tensor]:
    """Fixed-order batches over ``indices`` (all of them, the last one possibly short)."""
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size].to(images.device)
        yield to_float(images.index_select(0, chunk), value_range)
