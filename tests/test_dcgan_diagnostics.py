"""The DCGAN's per-epoch test diagnostics score D as training runs it: BatchNorm on each batch's own statistics."""

import contextlib
from types import SimpleNamespace

import torch

from trainer.losses import d_loss_fake, d_loss_real, g_loss
from trainer.models import DCGAN
from trainer.models.dcgan import DCGANConfig
from trainer.train_dcgan import evaluate_dcgan


def _session(images: torch.Tensor, batch_size: int) -> SimpleNamespace:
    runtime = SimpleNamespace(autocast=contextlib.nullcontext)
    return SimpleNamespace(runtime=runtime, images=images, test_indices=torch.arange(len(images)),
                           train=SimpleNamespace(batch_size=batch_size))


def _buffers(module: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_test_diagnostics_ignore_running_statistics_and_leave_them_alone():
    torch.manual_seed(0)
    gan = DCGAN(DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8))
    # Running statistics far from any batch's: in eval mode they would decide D's output.
    for module in gan.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.fill_(50.0)
            module.running_var.fill_(1e-3)
    images = torch.randint(0, 256, (70, 3, 16, 16), dtype=torch.uint8)  # 70: two full batches of 32 and 6 spare
    fixed_z = torch.randn(16, 8)
    before = _buffers(gan)

    row = evaluate_dcgan(gan, _session(images, batch_size=32), fixed_z)

    after = _buffers(gan)
    assert all(torch.equal(before[k], after[k]) for k in before)  # the model's own statistics did not move
    assert gan.training  # and its mode is as it was

    # The same figure by hand: D in train mode on the two full batches (the ragged 6 are left out).
    reference = DCGAN(gan.config)
    reference.load_state_dict(gan.state_dict())
    reference.train()
    with torch.no_grad():
        batches = [images[i : i + 32].float() / 127.5 - 1 for i in (0, 32)]
        logits = [reference.discriminator(b) for b in batches]
        fake_logits = reference.discriminator(reference.generator(fixed_z))
    expected_prob = torch.cat([torch.sigmoid(l) for l in logits]).mean().item()
    expected_loss = sum(d_loss_real(l).item() * len(l) for l in logits) / 64 + d_loss_fake(fake_logits).item()
    assert abs(row["test_d_real"] - expected_prob) < 1e-5
    assert abs(row["test_d_loss"] - expected_loss) < 1e-4
    assert abs(row["test_g_loss"] - g_loss(fake_logits).item()) < 1e-4

    reference.eval()
    with torch.no_grad():
        eval_prob = torch.sigmoid(reference.discriminator(batches[0])).mean().item()
    assert abs(eval_prob - expected_prob) > 1e-3  # eval mode would have given another figure


def test_test_diagnostics_on_fewer_images_than_a_batch_use_them_all():
    torch.manual_seed(1)
    gan = DCGAN(DCGANConfig(image_size=16, latent_dim=8, generator_width=8, discriminator_width=8))
    images = torch.randint(0, 256, (5, 3, 16, 16), dtype=torch.uint8)
    row = evaluate_dcgan(gan, _session(images, batch_size=32), torch.randn(4, 8))
    assert set(row) == {"test_d_loss", "test_g_loss", "test_d_real", "test_d_fake"}
    assert all(torch.isfinite(torch.tensor(v)) for v in row.values())
