"""The gateway's exception hierarchy."""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class BufferUnavailable(GatewayError):
    """The durable buffer cannot commit (disk full, I/O error); nothing is acknowledged."""
