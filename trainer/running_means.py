"""Per-epoch means of the figures a training loop logs, summed on the device.

Reading a loss with ``.item()`` waits for the device to finish the step (a host sync on a GPU); doing it for
every figure on every step serialises the loop. Here each step adds detached tensors and nothing is read back
until the progress bar's log interval or the epoch's end (as nanoGPT reads its loss only at ``log_interval``).
"""

from __future__ import annotations

import torch

LOG_INTERVAL = 10  # steps between the progress bar's figures: each read-back waits for the device


class RunningMeans:
    def __init__(self):
        self._sums: dict[str, torch.Tensor | float] = {}
        self._counts: dict[str, int] = {}
        self.latest: dict[str, torch.Tensor | float] = {}

    def add(self, **values: torch.Tensor | float | None) -> None:
        """This step's figures; a None (e.g. R1 on a step that skips it) is not counted in that mean."""
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, torch.Tensor):
                value = value.detach().float()
            self._sums[key] = self._sums.get(key, 0.0) + value
            self._counts[key] = self._counts.get(key, 0) + 1
            self.latest[key] = value

    def shown(self, digits: int = 3) -> dict[str, str]:
        """The latest figures as text for a progress bar (reads them back: call it at the log interval)."""
        return {key: f"{float(value):.{digits}f}" for key, value in self.latest.items()}

    def means(self) -> dict[str, float]:
        """Each figure's mean over the steps that had it (one read-back per figure)."""
        return {key: float(total) / self._counts[key] for key, total in self._sums.items()}
