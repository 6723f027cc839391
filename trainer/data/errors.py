class DataSourceError(Exception):
    """A data source is missing, empty or unreadable (shown to the user as one line)."""
