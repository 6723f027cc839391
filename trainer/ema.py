"""The DCGAN generator's exponential moving average (Yazici et al. 2019): torch's own AveragedModel.

The average only watches G, it never feeds back into training, so it may be switched on when a run resumes.
Its state rides in ``training_state.pt`` beside the optimizers (key ``generator_ema``); the samples drawn
each epoch and the exported generator are the average.
"""

from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

STATE_KEY = "generator_ema"


def generator_average(generator: torch.nn.Module, decay: float, state: dict | None = None) -> AveragedModel:
    """The average of ``generator`` (BatchNorm statistics included); ``state`` resumes a saved one, otherwise
    it starts as a copy of the generator at its first update."""
    average = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    if state is not None:
        average.load_state_dict(state)
    return average


def averaged_generator_weights(training_state: dict) -> tuple[dict, int] | None:
    """The averaged generator's state dict and its number of updates, if the run kept an average."""
    state = training_state.get("optimizers", {}).get(STATE_KEY)
    if not state:
        return None
    weights = {k.removeprefix("module."): v for k, v in state.items() if k.startswith("module.")}
    return weights, int(state["n_averaged"])
