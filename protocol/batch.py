"""The ingest batch: what the gateway POSTs to cloud_ingest (docs/protocol.md#ingest-batch).

    {"batch_id": "<hex>", "gateway": "gw-1", "readings": [<v1 object>, ...],
     "events": [<status event>, ...]}          # events optional

The batch id is a digest of the readings' (bin, seq) keys, so a retried batch
carries the same id; cloud_ingest is idempotent by (bin, seq) in any case.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from protocol import status, v1
from protocol.errors import ProtocolError

MAX_READINGS = 10_000
_GATEWAY_RE = re.compile(r"[A-Za-z0-9_\-.]{1,64}")


@dataclass(frozen=True, slots=True)
class Batch:
    """A validated ingest batch."""

    batch_id: str
    gateway: str
    readings: tuple[v1.Reading, ...]
    events: tuple[status.StatusEvent, ...] = ()


def batch_id_of(keys: list[tuple[str, int]]) -> str:
    """Return the deterministic id of a batch holding these (bin, seq) keys."""
    h = hashlib.sha256()
    for bin_id, seq in keys:
        h.update(f"{bin_id}\x00{seq}\x00".encode())
    return h.hexdigest()[:32]


def encode_raw(gateway: str, keys: list[tuple[str, int]], readings_json: list[str],
               events: list[dict[str, Any]] | None = None) -> bytes:
    """Encode a batch from readings that are already v1 JSON text (as the gateway buffers
    them), without parsing them again; keys are their (bin, seq)."""
    tail = "" if events is None else ',"events":' + json.dumps(events, separators=(",", ":"))
    return (
        '{"batch_id":"' + batch_id_of(keys) + '","gateway":' + json.dumps(gateway)
        + ',"readings":[' + ",".join(readings_json) + "]" + tail + "}"
    ).encode()


def encode(gateway: str, readings: list[dict[str, Any]]) -> bytes:
    """Encode v1 wire dicts as an ingest batch body (uncompressed JSON)."""
    return encode_raw(gateway, [(r["bin"], r["seq"]) for r in readings],
                      [json.dumps(r, separators=(",", ":")) for r in readings])


def decode(raw: bytes, now_ms: int) -> Batch:
    """Decode and validate an ingest batch body; raise ProtocolError naming the bad field."""
    obj = v1.parse_json(raw)
    if not isinstance(obj, dict):
        raise ProtocolError("batch", "must be a JSON object")
    batch_id = obj.get("batch_id")
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= 64:
        raise ProtocolError("batch_id", "must be a string of 1..64 characters", batch_id)
    gateway = obj.get("gateway")
    if not isinstance(gateway, str) or not _GATEWAY_RE.fullmatch(gateway):
        raise ProtocolError("gateway", f"must match {_GATEWAY_RE.pattern}", gateway)
    items = obj.get("readings")
    if not isinstance(items, list):
        raise ProtocolError("readings", "must be a list")
    if len(items) > MAX_READINGS:
        raise ProtocolError("readings", f"at most {MAX_READINGS} per batch", len(items))
    readings = []
    for i, item in enumerate(items):
        try:
            readings.append(v1.validate(item, None, now_ms))
        except ProtocolError as e:
            raise ProtocolError(f"readings[{i}].{e.field}", e.rule, e.value) from None
    raw_events = obj.get("events", [])
    if not isinstance(raw_events, list):
        raise ProtocolError("events", "must be a list")
    if len(raw_events) > MAX_READINGS:
        raise ProtocolError("events", f"at most {MAX_READINGS} per batch", len(raw_events))
    events = []
    for i, item in enumerate(raw_events):
        try:
            events.append(status.validate(item))
        except ProtocolError as e:
            raise ProtocolError(f"events[{i}].{e.field}", e.rule, e.value) from None
    return Batch(batch_id=batch_id, gateway=gateway, readings=tuple(readings),
                 events=tuple(events))


def json_schema() -> dict[str, Any]:
    """JSON Schema of an ingest batch (readings as protocol.v1.json_schema())."""
    event = {"type": "object", "required": ["bin", "status", "ts_ms"],
             "properties": {"bin": {"type": "string", "pattern": f"^{v1.ID_RE.pattern}$"},
                            "status": {"enum": list(status.STATUSES)},
                            "ts_ms": {"type": "integer", "minimum": 0,
                                      "maximum": 2**53 - 1},
                            "config_version": {"anyOf": [
                                {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                                {"type": "null"}]},
                            "config_error": {"anyOf": [
                                {"type": "string", "maxLength": status.MAX_ERROR_CHARS},
                                {"type": "null"}]}}}
    return {"type": "object", "required": ["batch_id", "gateway", "readings"],
            "properties": {
                "batch_id": {"type": "string", "minLength": 1, "maxLength": 64},
                "gateway": {"type": "string", "pattern": f"^{_GATEWAY_RE.pattern}$"},
                "readings": {"type": "array", "maxItems": MAX_READINGS,
                             "items": v1.json_schema()},
                "events": {"type": "array", "maxItems": MAX_READINGS, "items": event}}}
