"""Bin status events: the retained `bins/{bin_id}/status` payload, and its place in batches.

A bin publishes "online" (retained) after connecting and has "offline" as its last
will. The gateway passes each on as an event stamped with the time it received it.
In an ingest batch: {"bin": "bin-0001", "status": "online", "ts_ms": 1764800000000}.
"""

from dataclasses import dataclass
from typing import Any

from protocol.errors import ProtocolError
from protocol.v1 import ID_RE

STATUSES = ("online", "offline")


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A bin went online or offline (as far as the broker could tell) at ts_ms."""

    bin_id: str
    status: str
    ts_ms: int

    def to_wire(self) -> dict[str, Any]:
        """Return the batch form."""
        return {"bin": self.bin_id, "status": self.status, "ts_ms": self.ts_ms}


def decode(bin_id: str, payload: bytes, ts_ms: int) -> StatusEvent:
    """Decode a status payload published for bin_id; ProtocolError("status", ...) if not one."""
    text = payload.decode("utf-8", "replace").strip()
    if text not in STATUSES:
        raise ProtocolError("status", "must be online or offline", text[:40])
    return StatusEvent(bin_id, text, ts_ms)


def validate(obj: object) -> StatusEvent:
    """Validate the batch form of an event."""
    if not isinstance(obj, dict):
        raise ProtocolError("event", "must be a JSON object")
    bin_id, status, ts_ms = obj.get("bin"), obj.get("status"), obj.get("ts_ms")
    if not isinstance(bin_id, str) or not ID_RE.fullmatch(bin_id):
        raise ProtocolError("bin", f"must be a string matching {ID_RE.pattern}", bin_id)
    if status not in STATUSES:
        raise ProtocolError("status", "must be online or offline", status)
    if type(ts_ms) is not int or not 0 <= ts_ms < 2**53:
        raise ProtocolError("ts_ms", "must be an integer 0..2^53-1", ts_ms)
    return StatusEvent(bin_id, str(status), ts_ms)
