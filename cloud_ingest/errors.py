"""cloud_ingest's exception hierarchy."""


class IngestError(Exception):
    """Base of every error cloud_ingest raises on purpose."""


class StoreUnavailable(IngestError):
    """The time-series or operational store cannot take a write now; retry later."""
