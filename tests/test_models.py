import json

import pytest
import torch

from trainer.models import CheckpointError, ConvVAE, DCGAN, DCGANConfig, VAEConfig, load_model

TINY_VAE = VAEConfig(image_size=16, latent_dim=8, hidden_channels=(8, 16, 32), dense_dim=32)
TINY_GAN = DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8)


def test_seed000_vae_shapes_and_layers():
    vae = ConvVAE(VAEConfig()).eval()
    convs = [m for m in vae.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 256, 512]
    assert vae.encoder_dense[1].out_features == 1024
    x = torch.rand(2, 3, 64, 64)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (2, 128)
    out = vae.decode(mu)
    assert out.shape == (2, 3, 64, 64) and 0 <= out.min() and out.max() <= 1


def test_refine_channels_draw_full_resolution_maps_before_a_3x3_conv(tmp_path):
    config = VAEConfig(image_size=16, latent_dim=8, hidden_channels=(8, 16), dense_dim=32, refine_channels=4)
    vae = ConvVAE(config).eval()
    up = [m for m in vae.decoder if isinstance(m, torch.nn.ConvTranspose2d)]
    head = vae.decoder[-2]
    assert up[-1].out_channels == 4 and isinstance(head, torch.nn.Conv2d) and head.kernel_size == (3, 3)
    z = torch.randn(3, 8)
    out = vae.decode(z)
    assert out.shape == (3, 3, 16, 16) and 0 <= out.min() and out.max() <= 1
    vae.save_pretrained(tmp_path / "refine")
    loaded = load_model(tmp_path / "refine")
    assert loaded.config.refine_channels == 4 and torch.equal(loaded.decode(z), out)
    # Without it the decoder is seed 000's: the same layers (so older checkpoints keep loading).
    plain = ConvVAE(VAEConfig(image_size=16, latent_dim=8, hidden_channels=(8, 16), dense_dim=32))
    assert not any(isinstance(m, torch.nn.Conv2d) for m in plain.decoder)
    with pytest.raises(ValueError, match="refine_channels"):
        VAEConfig(refine_channels=-1)


def test_fashion_vae_handles_odd_feature_sizes():
    vae = ConvVAE(VAEConfig(image_size=28, image_channels=1, latent_dim=16, hidden_channels=(32, 64, 128)))
    recon, mu, _ = vae(torch.rand(3, 1, 28, 28))
    assert recon.shape == (3, 1, 28, 28) and mu.shape == (3, 16)


@pytest.mark.parametrize("size,latent", [(64, 100), (128, 256)])
def test_dcgan_shapes(size, latent):
    gan = DCGAN(DCGANConfig(image_size=size, latent_dim=latent)).eval()
    images = gan.decode(torch.randn(2, latent))
    assert images.shape == (2, 3, size, size) and 0 <= images.min() and images.max() <= 1
    assert gan.discriminator(images * 2 - 1).shape == (2,)


def test_dcgan_init_is_normal_002():
    gan = DCGAN(DCGANConfig())
    weights = torch.cat([m.weight.flatten() for m in gan.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))])
    assert abs(weights.std().item() - 0.02) < 0.001 and abs(weights.mean().item()) < 0.001


@pytest.mark.parametrize("cls,config", [(ConvVAE, TINY_VAE), (DCGAN, TINY_GAN)])
def test_save_load_round_trip_gives_identical_outputs(tmp_path, cls, config):
    torch.manual_seed(0)
    model = cls(config).eval()
    model.save_pretrained(tmp_path / "ckpt")
    loaded = cls.from_pretrained(tmp_path / "ckpt")
    z = torch.randn(4, config.latent_dim)
    assert torch.equal(model.decode(z), loaded.decode(z))
    assert not list(tmp_path.glob("ckpt/*.pt")) and not list(tmp_path.glob("ckpt/*.pkl"))
    meta = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert meta["model_type"] == cls.model_type and meta["package_version"]
    assert isinstance(load_model(tmp_path / "ckpt"), cls)


def test_fp16_checkpoint_loads_as_float32(tmp_path):
    model = ConvVAE(TINY_VAE).eval()
    model.save_pretrained(tmp_path / "half", dtype=torch.float16)
    loaded = ConvVAE.from_pretrained(tmp_path / "half")
    assert next(loaded.parameters()).dtype == torch.float32
    z = torch.randn(2, 8)
    assert torch.allclose(model.decode(z), loaded.decode(z), atol=5e-3)


def test_seeded_sampling_is_deterministic():
    for model in (ConvVAE(TINY_VAE).eval(), DCGAN(TINY_GAN).eval()):
        a = model.sample(3, generator=torch.Generator().manual_seed(42))
        b = model.sample(3, generator=torch.Generator().manual_seed(42))
        c = model.sample(3, generator=torch.Generator().manual_seed(43))
        assert torch.equal(a, b) and not torch.equal(a, c)


def _saved(tmp_path):
    folder = tmp_path / "ckpt"
    ConvVAE(TINY_VAE).save_pretrained(folder)
    return folder


def _edit_config(folder, change):
    meta = json.loads((folder / "config.json").read_text())
    change(meta)
    (folder / "config.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("damage,message", [
    (lambda f: (f / "config.json").unlink(), "no config.json"),
    (lambda f: (f / "model.safetensors").unlink(), "no model.safetensors"),
    (lambda f: (f / "config.json").write_text("{not json"), "not valid JSON"),
    (lambda f: _edit_config(f, lambda m: m.update(model_type="dcgan")), "not a 'conv_vae'"),
    (lambda f: _edit_config(f, lambda m: m["config"].update(colour=1)), "unknown VAEConfig keys"),
    (lambda f: _edit_config(f, lambda m: m["config"].update(latent_dim=9)), "shape mismatches"),
    (lambda f: _edit_config(f, lambda m: m["config"].update(image_size=-3)), "invalid VAEConfig"),
    (lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:-100]), "hash"),
])
def test_broken_checkpoints_raise_one_clear_error(tmp_path, damage, message):
    folder = _saved(tmp_path)
    damage(folder)
    with pytest.raises(CheckpointError, match=message):
        ConvVAE.from_pretrained(folder)


def test_truncated_weights_without_hash_still_fail_cleanly(tmp_path):
    folder = _saved(tmp_path)
    _edit_config(folder, lambda m: m.pop("weights_sha256"))
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        ConvVAE.from_pretrained(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "nowhere")


def test_checkpoint_files_are_world_readable(tmp_path):
    folder = _saved(tmp_path)
    for name in ("config.json", "model.safetensors"):
        assert (folder / name).stat().st_mode & 0o044 == 0o044
