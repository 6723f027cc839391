"""Trainer: data, models, losses and training loops for anime-latent-explorer."""

__version__ = "0.1.0"
