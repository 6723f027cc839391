"""Each epoch's DCGAN grid draws with the weight average whose BatchNorm statistics were measured for its
weights: what an export of that epoch serves, not the averaged running statistics."""

import copy
import json

import numpy as np
import torch
from PIL import Image

from trainer.artifacts import grid_image
from trainer.cli import main
from trainer.ema import (GRID_RECALIBRATION_BATCHES, averaged_generator_weights, weight_average,
                         recalibrate_batchnorm, recalibrated_copy)
from trainer.models import DCGAN, DCGANConfig, load_model
from trainer.run_dir import RunDir
from trainer.session import fixed_latent


def test_epoch_grid_draws_the_average_with_batchnorm_measured_for_its_weights(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--no-cache", "--preset", "dcgan-tiny", "--data", "synthetic:300",
                 "--epochs", "2"]) == 0
    gan = load_model(run / "checkpoint")
    weights, _ = averaged_generator_weights(RunDir.load_training_state(run / "checkpoint"))
    gan.generator.load_state_dict(weights)
    raw = copy.deepcopy(gan.generator).eval()
    measured = copy.deepcopy(gan.generator)
    recalibrate_batchnorm(measured, gan.latent_dim, batches=GRID_RECALIBRATION_BATCHES)
    train = json.loads((run / "run_config.json").read_text())["train"]
    z = fixed_latent(train["seed"], train["sample_count"], gan.latent_dim)

    def grid(generator):
        with torch.no_grad():
            return np.asarray(grid_image((generator.eval()(z) + 1) / 2), float)

    saved = np.asarray(Image.open(run / "samples/epoch_002.png"), float)
    to_measured, to_raw = np.abs(saved - grid(measured)).mean(), np.abs(saved - grid(raw)).mean()
    assert to_measured < 1.0 < to_raw  # pixel levels 0..255; bf16 autocast in training explains < 1


def test_the_grid_copy_leaves_the_average_it_keeps_updating_alone():
    gan = DCGAN(DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8))
    average = weight_average(gan.generator, decay=0.9)
    average.update_parameters(gan.generator)
    before = {k: v.clone() for k, v in average.state_dict().items()}
    grid_generator = recalibrated_copy(average, gan.latent_dim)
    after = average.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    statistics = [k for k in grid_generator.state_dict() if k.endswith("running_var")]
    assert statistics and any(not torch.equal(grid_generator.state_dict()[k], after[f"module.{k}"])
                              for k in statistics)  # the copy's were measured afresh
