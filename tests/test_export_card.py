"""The model card's Reproduce commands name the recipe options a run changed; its curve keeps one scale."""
import dataclasses

from trainer.config import PRESETS, TrainConfig
from trainer.export_card import loss_curve_sentence, network_flags, recipe_flags, reproduce_training


def preset_train(preset: str) -> dict:
    return dataclasses.asdict(TrainConfig(**PRESETS[preset].train))


def test_a_preset_run_names_no_extra_options():
    assert recipe_flags("dcgan-anime64", preset_train("dcgan-anime64")) == ""


def test_changed_recipe_options_are_named_and_device_options_are_not():
    train = {**preset_train("dcgan-anime64"), "r1_gamma": 0.1, "r1_interval": 4, "lr_decay_epochs": 6,
             "flip": False, "device": "cuda", "epochs": 80}
    assert recipe_flags("dcgan-anime64", train) == " --no-flip --r1-gamma 0.1 --r1-interval 4 --lr-decay-epochs 6"


def test_only_the_last_continuation_carries_the_last_runs_options():
    train = {**preset_train("dcgan-anime64"), "r1_gamma": 0.1}
    lines = reproduce_training("gan", "dcgan-anime64", "--data D", [{"epochs": 14}], 20, train)
    assert lines == [
        "python -m trainer train --preset dcgan-anime64 --data D --epochs 14 --out runs/gan",
        "python -m trainer export --run runs/gan --out checkpoints/gan",
        "python -m trainer train --init-from checkpoints/gan --epochs 20 --r1-gamma 0.1 --out runs/gan-2",
        "python -m trainer export --run runs/gan-2 --out checkpoints/gan",
    ]


def test_an_annealed_run_lists_its_elbo_not_its_beta_weighted_loss():
    # β climbing 0.5 → 1 makes the loss rise while the −ELBO, the model's own figure, falls.
    history = [{"epoch": 1, "beta": 0.5, "test_loss": 220.0, "test_neg_elbo_nats": 300.0},
               {"epoch": 2, "beta": 1.0, "test_loss": 238.0, "test_neg_elbo_nats": 238.0}]
    assert loss_curve_sentence(history).startswith("Test −ELBO per epoch")
    assert loss_curve_sentence(history).endswith("1: 300, 2: 238.")


def test_a_run_at_one_beta_lists_its_loss():
    history = [{"epoch": 1, "beta": 0.25, "test_loss": -7824.55, "test_neg_elbo_nats": -7390.0},
               {"epoch": 2, "beta": 0.25, "test_loss": -7900.0, "test_neg_elbo_nats": -7400.0}]
    assert loss_curve_sentence(history) == "Test loss per epoch: 1: -7825, 2: -7900."
    assert loss_curve_sentence([]) == "Test loss per epoch: see training_metrics.csv."


def test_a_network_that_is_not_the_presets_is_named_on_the_first_run():
    # The best anime VAE: the refine preset's network with 64 full-resolution maps and a 256-d latent.
    network = {"dense_dim": 1024, "hidden_channels": [48, 96, 192, 384], "image_channels": 3, "image_size": 64,
               "latent_dim": 256, "refine_channels": 64}
    lines = reproduce_training("best", "vae-anime64-refine", "--data D", [], 32, preset_train("vae-anime64-refine"),
                               network)
    assert lines[0] == ("python -m trainer train --preset vae-anime64-refine --data D --epochs 32 "
                        "--latent-dim 256 --refine-channels 64 --out runs/best")
    wide = {**network, "latent_dim": 128, "refine_channels": 16}
    assert reproduce_training("r", "vae-anime64-refine", "--data D", [], 32, None, wide)[0].endswith("--epochs 32 --out runs/r")
    assert network_flags("vae-tiny", {"hidden_channels": [4, 8]}) == " --hidden-channels 4 8"
