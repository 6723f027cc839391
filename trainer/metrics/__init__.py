"""Offline evaluation: FID/KID/precision-recall on Inception features, reconstruction, disentanglement."""
