"""Decode and validate the v1 JSON reading payload against firmware's FIELDS table.

    reading = v1.decode(payload_bytes, topic_bin_id="bin-0001", now_ms=now)

Every failure is a ProtocolError naming the field and the rule; nothing else is
raised for any input (tests/protocol/test_v1.py checks this with hypothesis).
"""

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from firmware.core import payload as fw_payload
from protocol.errors import ProtocolError

VERSION = fw_payload.VERSION
MAX_BYTES = fw_payload.MAX_BYTES
# Device clocks drift; a reading stamped further ahead than this is not believed.
MAX_FUTURE_MS = 10 * 60 * 1000

_ID_RE = re.compile(r"[A-Za-z0-9_\-]{1,32}")
_FW_RE = re.compile(r"[A-Za-z0-9_\-.+]{1,24}")


@dataclass(frozen=True, slots=True)
class Reading:
    """A validated reading in wire units."""

    bin_id: str
    seq: int
    ts_ms: int
    fill_pct: float | None
    distance_mm: int | None
    weight_kg: float | None
    battery_mv: int | None
    temp_c: float | None
    quality: int
    flags: int
    fw: str

    def to_wire(self) -> dict[str, Any]:
        """Return the v1 wire dict (JSON-ready), fields in schema order."""
        out: dict[str, Any] = {"v": VERSION}
        for name, attr in _WIRE_TO_ATTR:
            out[name] = getattr(self, attr)
        return out


_WIRE_TO_ATTR = (
    ("bin", "bin_id"),
    ("seq", "seq"),
    ("ts_ms", "ts_ms"),
    ("fill_pct", "fill_pct"),
    ("distance_mm", "distance_mm"),
    ("weight_kg", "weight_kg"),
    ("battery_mv", "battery_mv"),
    ("temp_c", "temp_c"),
    ("quality", "quality"),
    ("flags", "flags"),
    ("fw", "fw"),
)


def _reject_constant(name: str) -> float:
    raise ProtocolError("payload", "NaN and Infinity are not JSON", name)


def parse_json(raw: bytes) -> object:
    """Parse JSON bytes strictly (no NaN/Infinity, UTF-8 only)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("payload", "must be UTF-8 JSON") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as e:
        raise ProtocolError("payload", f"malformed JSON: {e}") from None


def _check_field(  # noqa: PLR0917
    name: str, kind: int, places: int, lo: int, hi: int, value: object
) -> object:
    if kind == fw_payload.KIND_STR:
        pattern = _ID_RE if name == "bin" else _FW_RE
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ProtocolError(name, f"must be a string matching {pattern.pattern}", value)
        return value
    # bool is an int subclass in Python; true/false are not numbers on our wire.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(name, "must be a number", value)
    if kind == fw_payload.KIND_INT:
        if isinstance(value, float):
            if not value.is_integer():
                raise ProtocolError(name, "must be an integer", value)
            value = int(value)
    else:
        if not math.isfinite(value):
            raise ProtocolError(name, "must be finite", value)
        value = round(float(value), places)
    if not lo <= value <= hi:
        raise ProtocolError(name, f"must be within {lo}..{hi}", value)
    return value


def validate(obj: object, topic_bin_id: str | None, now_ms: int) -> Reading:
    """Validate a parsed v1 object; topic_bin_id, if given, must equal its `bin`."""
    if not isinstance(obj, dict):
        raise ProtocolError("payload", "must be a JSON object", type(obj).__name__)
    version = obj.get("v")
    if version != VERSION or isinstance(version, bool):
        raise ProtocolError("v", f"unknown schema version, expected {VERSION}", version)
    known = {f[0] for f in fw_payload.FIELDS}
    unknown = sorted(k for k in obj if k not in known)
    if unknown:
        raise ProtocolError(unknown[0], "unknown field in v1 payload")
    values: dict[str, object] = {}
    for name, attr, kind, places, lo, hi, nullable, _unit in fw_payload.FIELDS:
        if attr is None:
            continue
        if name not in obj:
            raise ProtocolError(name, "required field is missing")
        value = obj[name]
        if value is None:
            if not nullable:
                raise ProtocolError(name, "must not be null")
            values[name] = None
            continue
        values[name] = _check_field(name, kind, places, lo, hi, value)
    if topic_bin_id is not None and values["bin"] != topic_bin_id:
        raise ProtocolError("bin", f"must equal the topic's bin id {topic_bin_id!r}", values["bin"])
    ts_ms = values["ts_ms"]
    assert isinstance(ts_ms, int)
    if ts_ms > now_ms + MAX_FUTURE_MS:
        raise ProtocolError("ts_ms", f"more than {MAX_FUTURE_MS // 1000} s in the future", ts_ms)
    return Reading(
        bin_id=values["bin"],  # type: ignore[arg-type]
        seq=values["seq"],  # type: ignore[arg-type]
        ts_ms=ts_ms,
        fill_pct=values["fill_pct"],  # type: ignore[arg-type]
        distance_mm=values["distance_mm"],  # type: ignore[arg-type]
        weight_kg=values["weight_kg"],  # type: ignore[arg-type]
        battery_mv=values["battery_mv"],  # type: ignore[arg-type]
        temp_c=values["temp_c"],  # type: ignore[arg-type]
        quality=values["quality"],  # type: ignore[arg-type]
        flags=values["flags"],  # type: ignore[arg-type]
        fw=values["fw"],  # type: ignore[arg-type]
    )


def decode(raw: bytes, topic_bin_id: str | None, now_ms: int) -> Reading:
    """Decode v1 JSON bytes into a Reading or raise ProtocolError."""
    if len(raw) > MAX_BYTES:
        raise ProtocolError("payload", f"larger than {MAX_BYTES} bytes", len(raw))
    return validate(parse_json(raw), topic_bin_id, now_ms)
