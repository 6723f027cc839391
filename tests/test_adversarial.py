"""The VAE-GAN's adversarial term: its adaptive weight, its training run, exact resume and what export ships."""

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from trainer.adversarial import STATE_KEY, adaptive_weight, last_decoder_weight, vae_discriminator
from trainer.cli import main
from trainer.models import ConvVAE, VAEConfig
from trainer.run_dir import RunDir

from test_training import rows, train

TINY = ("--preset", "vae-tiny", "--data", "synthetic:300")


def test_adaptive_weight_is_the_ratio_of_gradient_norms_at_the_layer():
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    out = layer(torch.randn(8, 4))
    recon, adversarial = out.pow(2).sum(), (out * torch.randn(8, 3)).mean()
    expected = (torch.autograd.grad(recon, layer.weight, retain_graph=True)[0].norm()
                / (torch.autograd.grad(adversarial, layer.weight, retain_graph=True)[0].norm() + 1e-4))
    weight = adaptive_weight(recon, adversarial, layer.weight)
    assert not weight.requires_grad and torch.allclose(weight, expected)
    # The point of it: the same setting whatever the likelihood's scale (summed nats vs a mean MSE).
    assert torch.allclose(adaptive_weight(1000 * recon, adversarial, layer.weight), 1000 * expected, rtol=1e-4)


def test_the_last_decoder_weight_is_the_layer_that_draws_the_pixels():
    vae = ConvVAE(VAEConfig(image_size=16, latent_dim=4, hidden_channels=(8, 16), dense_dim=32))
    weight = last_decoder_weight(vae.decoder)
    assert weight.shape[1] == 3  # ConvTranspose2d weight: (in, out=RGB, k, k)
    assert vae_discriminator(vae.config)(torch.zeros(2, 3, 16, 16)).shape == (2,)


def test_a_vae_gan_run_learns_resumes_exactly_and_exports_a_plain_vae(tmp_path):
    args = (*TINY, "--adversarial-weight", 0.5)
    assert train(tmp_path / "straight", *args, "--epochs", 2) == 0
    assert train(tmp_path / "resumed", *args, "--epochs", 1) == 0
    assert train(tmp_path / "resumed", "--resume", "--epochs", 2) == 0
    a, b = (load_file(tmp_path / r / "checkpoint/model.safetensors") for r in ("straight", "resumed"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # D and its Adam resumed too
    state = RunDir.load_training_state(tmp_path / "resumed/checkpoint")
    assert any(k.endswith("weight") for k in state["optimizers"][STATE_KEY])
    history = rows(tmp_path / "straight")
    assert all(float(r["train_adv_weight"]) > 0 and float(r["train_g_adv"]) > 0 for r in history)
    assert float(history[-1]["train_d_real"]) > float(history[-1]["train_d_fake"])  # D tells them apart
    assert rows(tmp_path / "straight")[-1]["test_loss"] == rows(tmp_path / "resumed")[-1]["test_loss"]

    # The same run without the term ends elsewhere: the adversarial gradient reaches the VAE.
    assert train(tmp_path / "plain", *TINY, "--epochs", 2) == 0
    plain = load_file(tmp_path / "plain/checkpoint/model.safetensors")
    assert not all(torch.equal(a[k], plain[k]) for k in a)

    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(tmp_path / "straight"), "--out", str(shipped)]) == 0
    vae = ConvVAE.from_pretrained(shipped)  # an ordinary VAE: D stayed behind in the run
    assert not any("discriminator" in k for k in load_file(shipped / "model.safetensors"))
    assert vae.decode(torch.zeros(1, 16)).shape == (1, 3, 16, 16)
    assert "adversarial term on the decoder (VAE-GAN" in (shipped / "MODEL_CARD.md").read_text()


def test_init_from_a_vae_may_switch_the_adversarial_term_on(tmp_path):
    assert train(tmp_path / "first", *TINY, "--epochs", 1) == 0
    shipped = tmp_path / "shipped"
    assert main(["export", "--run", str(tmp_path / "first"), "--out", str(shipped)]) == 0
    assert train(tmp_path / "gan", "--init-from", shipped, "--epochs", 2, "--adversarial-weight", 0.5) == 0
    meta = json.loads((tmp_path / "gan/checkpoint/config.json").read_text())
    assert meta["training"]["train_config"]["adversarial_weight"] == 0.5
    assert float(rows(tmp_path / "gan")[-1]["train_adv_weight"]) > 0


@pytest.mark.parametrize("args,message", [
    (["--preset", "dcgan-tiny", "--data", "synthetic:100", "--adversarial-weight", "1"], "is for the VAE's decoder"),
    ([*TINY, "--adversarial-weight", "-1"], "adversarial_weight must be >= 0"),
    ([*TINY, "--image-size", "24", "--adversarial-weight", "1"], "power-of-two image size"),
])
def test_bad_adversarial_settings_give_one_line_errors(tmp_path, capsys, args, message):
    assert train(tmp_path / "run", *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error:") and message in err[-1] and "Traceback" not in "\n".join(err)


def test_resume_refuses_to_switch_the_adversarial_term(tmp_path, capsys):
    assert train(tmp_path / "run", *TINY, "--epochs", 1) == 0
    assert train(tmp_path / "run", "--resume", "--epochs", 2, "--adversarial-weight", 0.5) == 2
    assert "cannot change --adversarial-weight" in capsys.readouterr().err
