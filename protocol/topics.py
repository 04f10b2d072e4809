"""MQTT topic names for bins (docs/protocol.md#topics)."""

from protocol.errors import ProtocolError

TELEMETRY = "bins/{bin_id}/telemetry"
STATUS = "bins/{bin_id}/status"
TELEMETRY_SUBSCRIPTION = "bins/+/telemetry"
STATUS_SUBSCRIPTION = "bins/+/status"


def telemetry(bin_id: str) -> str:
    """Return the telemetry topic of a bin."""
    return TELEMETRY.format(bin_id=bin_id)


def status(bin_id: str) -> str:
    """Return the retained status topic of a bin."""
    return STATUS.format(bin_id=bin_id)


def kind_of(topic: str) -> str:
    """Return the last level of a `bins/{bin_id}/{kind}` topic ("telemetry", "status")."""
    return topic.rsplit("/", 1)[-1]


def bin_of(topic: str) -> str:
    """Return the bin id named by a `bins/{bin_id}/...` topic."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "bins" or not parts[1]:
        raise ProtocolError("topic", "must be bins/{bin_id}/{kind}", topic)
    return parts[1]
