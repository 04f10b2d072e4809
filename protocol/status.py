"""Bin status events: the retained `bins/{bin_id}/status` payload, and its place in batches.

A bin has "offline" as its last will. After it applies or rejects a remote config it
publishes a JSON status (retained) naming the config version in force and, if the
newest config was refused, why:

    {"state": "online", "config": 7}
    {"state": "online", "config": 6, "config_error": "interval_s: must be 60..86400 (v7)"}
    {"state": "online", "config": 7, "dropped": 12}

"dropped" is the number of readings the bin's flash queue had to drop since it was
provisioned (its queue was full through a long outage): they will never arrive.

A bare "online" or "offline" is accepted too. The gateway passes each on as an event
stamped with the time it received it. In an ingest batch:

    {"bin": "bin-0001", "status": "online", "ts_ms": 1764800000000,
     "config_version": 7}                       (config_error, dropped when there are)
"""

import json
from dataclasses import dataclass
from typing import Any

from protocol.errors import ProtocolError
from protocol.v1 import ID_RE

STATUSES = ("online", "offline")
MAX_ERROR_CHARS = 200
_MAX_STATUS_BYTES = 512


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A bin went online or offline (as far as the broker could tell) at ts_ms.

    config_version is the remote config version the bin runs (None: not reported);
    config_error says why the newest config it was sent was refused; dropped is how many
    readings its flash queue has had to drop (None: not reported).
    """

    bin_id: str
    status: str
    ts_ms: int
    config_version: int | None = None
    config_error: str | None = None
    dropped: int | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the batch form."""
        out: dict[str, Any] = {"bin": self.bin_id, "status": self.status, "ts_ms": self.ts_ms}
        if self.config_version is not None:
            out["config_version"] = self.config_version
        if self.config_error is not None:
            out["config_error"] = self.config_error
        if self.dropped is not None:
            out["dropped"] = self.dropped
        return out


def _count(field: str, value: object) -> int | None:
    """An optional integer 0..2^31-1 (a config version, a dropped total)."""
    if value is not None and (type(value) is not int or not 0 <= value < 2**31):
        raise ProtocolError(field, "must be an integer 0..2^31-1", value)
    return value


def _config_fields(version: object, error: object) -> tuple[int | None, str | None]:
    version = _count("config_version", version)
    if error is not None and (not isinstance(error, str) or len(error) > MAX_ERROR_CHARS):
        raise ProtocolError("config_error", f"must be a string of at most {MAX_ERROR_CHARS} "
                            "characters", error if not isinstance(error, str) else error[:40])
    return version, error


def decode(bin_id: str, payload: bytes, ts_ms: int) -> StatusEvent:
    """Decode a status payload published for bin_id; ProtocolError naming the field if bad."""
    if len(payload) > _MAX_STATUS_BYTES:
        raise ProtocolError("status", f"must be at most {_MAX_STATUS_BYTES} bytes", len(payload))
    text = payload.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise ProtocolError("status", f"is not valid JSON ({e})", text[:40]) from e
        if not isinstance(obj, dict):
            raise ProtocolError("status", "must be a JSON object", text[:40])
        state = obj.get("state")
        if state not in STATUSES:
            raise ProtocolError("state", "must be online or offline", state)
        version, error = _config_fields(obj.get("config"), obj.get("config_error"))
        return StatusEvent(bin_id, str(state), ts_ms, version, error,
                           _count("dropped", obj.get("dropped")))
    if text not in STATUSES:
        raise ProtocolError("status", "must be online or offline, or a JSON status", text[:40])
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
    version, error = _config_fields(obj.get("config_version"), obj.get("config_error"))
    return StatusEvent(bin_id, str(status), ts_ms, version, error,
                       _count("dropped", obj.get("dropped")))
