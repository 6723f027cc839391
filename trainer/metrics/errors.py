class MetricsError(ValueError):
    """An evaluation cannot run as asked (missing FID network, too few images, …): one clear line."""
