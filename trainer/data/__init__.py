"""Data: image sources, decoding, the stable split and device-side batches."""

from trainer.data.batches import EpochBatches, epoch_generator, eval_batches
from trainer.data.dataset import ImageData, is_test_id, load_image_data
from trainer.data.errors import DataSourceError

__all__ = ["DataSourceError", "EpochBatches", "ImageData", "epoch_generator", "eval_batches", "is_test_id",
           "load_image_data"]
