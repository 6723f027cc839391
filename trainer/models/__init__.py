"""Model definitions and the checkpoint format they share."""

from trainer.models.checkpoint import CheckpointError, read_checkpoint_config
from trainer.models.dcgan import DCGAN, DCGANConfig, Discriminator, Generator, dcgan_weights_init
from trainer.models.inversion import INVERSION_DIR, InversionConfig, InversionEncoder
from trainer.models.vae import ConvVAE, VAEConfig

MODEL_CLASSES = {cls.model_type: cls for cls in (ConvVAE, DCGAN, InversionEncoder)}


def load_model(directory):
    """Load whichever model a checkpoint folder holds (its config.json names the type)."""
    meta = read_checkpoint_config(directory)
    cls = MODEL_CLASSES.get(meta["model_type"])
    if cls is None:
        raise CheckpointError(f"{directory}: unknown model_type '{meta['model_type']}'")
    return cls.from_pretrained(directory)


__all__ = [
    "CheckpointError", "ConvVAE", "DCGAN", "DCGANConfig", "Discriminator", "Generator", "INVERSION_DIR",
    "InversionConfig", "InversionEncoder", "MODEL_CLASSES",
    "VAEConfig", "dcgan_weights_init", "load_model", "read_checkpoint_config",
]
