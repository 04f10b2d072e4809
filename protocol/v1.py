"""Decode and validate the v1 JSON reading payload against firmware's FIELDS table.

    reading = v1.decode(payload_bytes, topic_bin_id="bin-0001", now_ms=now)

Every failure is a ProtocolError naming the field and the rule; nothing else is
raised for any input (tests/protocol/test_v1.py checks this with hypothesis).
"""

import json
import math
import re
from dataclasses import dataclass, fields
from typing import Any

from firmware.core import payload as fw_payload
from protocol.errors import ProtocolError

VERSION = fw_payload.VERSION
MAX_BYTES = fw_payload.MAX_BYTES
# Device clocks drift; a reading stamped further ahead than this is not believed.
MAX_FUTURE_MS = 10 * 60 * 1000

ID_RE = re.compile(r"[A-Za-z0-9_\-]{1,32}")
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
    quality_level: int | None
    spread_mm: int | None
    fw: str

    def to_wire(self) -> dict[str, Any]:
        """Return the v1 wire dict (JSON-ready), fields in schema order."""
        out: dict[str, Any] = {"v": VERSION}
        for name, attr in _WIRE_TO_ATTR:
            out[name] = getattr(self, attr)
        return out


# (wire name, Reading attribute) from firmware's FIELDS; only "bin" is renamed.
_WIRE_TO_ATTR = tuple((f[0], "bin_id" if f[0] == "bin" else f[0])
                      for f in fw_payload.FIELDS if f[1] is not None)


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


# (name, kind, places, lo, hi, nullable) for every field but "v", in schema order.
_SPECS = tuple((f[0], f[2], f[3], f[4], f[5], f[6]) for f in fw_payload.FIELDS if f[1] is not None)
_KNOWN = frozenset(f[0] for f in fw_payload.FIELDS)
_OPTIONAL = frozenset(fw_payload.OPTIONAL)
if [a for _, a in _WIRE_TO_ATTR] != [f.name for f in fields(Reading)] or \
        [w for w, _ in _WIRE_TO_ATTR] != [spec[0] for spec in _SPECS]:
    raise ImportError("protocol.v1.Reading does not follow firmware's FIELDS order")


def _check_field(  # noqa: PLR0917
    name: str, kind: int, places: int, lo: int, hi: int, value: object
) -> object:
    if kind == fw_payload.KIND_STR:
        pattern = ID_RE if name == "bin" else _FW_RE
        if type(value) is not str or not pattern.fullmatch(value):
            raise ProtocolError(name, f"must be a string matching {pattern.pattern}", value)
        return value
    number: int | float
    # Exact types first (the common case); bool is an int subclass in Python, and
    # true/false are not numbers on our wire.
    if type(value) is int or type(value) is float:
        number = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value) if isinstance(value, float) else int(value)
    else:
        raise ProtocolError(name, "must be a number", value)
    if kind == fw_payload.KIND_INT:
        if isinstance(number, float):
            if not number.is_integer():
                raise ProtocolError(name, "must be an integer", number)
            number = int(number)
    else:
        if isinstance(number, float) and not math.isfinite(number):
            raise ProtocolError(name, "must be finite", number)
        number = float(number)
    if not lo <= number <= hi:
        raise ProtocolError(name, f"must be within {lo}..{hi}", number)
    return number


def validate(obj: object, topic_bin_id: str | None, now_ms: int) -> Reading:
    """Validate a parsed v1 object; topic_bin_id, if given, must equal its `bin`."""
    if type(obj) is not dict:
        raise ProtocolError("payload", "must be a JSON object", type(obj).__name__)
    version = obj.get("v")
    if version != VERSION or type(version) is not int:
        raise ProtocolError("v", f"unknown schema version, expected {VERSION}", version)
    if len(obj) != len(_KNOWN) or not _KNOWN.issuperset(obj):
        unknown = sorted(k for k in obj if k not in _KNOWN)
        if unknown:
            raise ProtocolError(unknown[0], "unknown field in v1 payload")
    values: list[object] = []
    for name, kind, places, lo, hi, nullable in _SPECS:
        try:
            value = obj[name]
        except KeyError:
            if name in _OPTIONAL:
                values.append(None)
                continue
            raise ProtocolError(name, "required field is missing") from None
        if value is None:
            if not nullable:
                raise ProtocolError(name, "must not be null")
            values.append(None)
        else:
            values.append(_check_field(name, kind, places, lo, hi, value))
    reading = Reading(*values)  # type: ignore[arg-type]
    if topic_bin_id is not None and reading.bin_id != topic_bin_id:
        raise ProtocolError("bin", f"must equal the topic's bin id {topic_bin_id!r}",
                            reading.bin_id)
    if reading.ts_ms > now_ms + MAX_FUTURE_MS:
        raise ProtocolError("ts_ms", f"more than {MAX_FUTURE_MS // 1000} s in the future",
                            reading.ts_ms)
    return reading


def decode(raw: bytes, topic_bin_id: str | None, now_ms: int) -> Reading:
    """Decode v1 JSON bytes into a Reading or raise ProtocolError."""
    if len(raw) > MAX_BYTES:
        raise ProtocolError("payload", f"larger than {MAX_BYTES} bytes", len(raw))
    return validate(parse_json(raw), topic_bin_id, now_ms)


def json_schema() -> dict[str, Any]:
    """JSON Schema of a v1 reading, from the same field table the validator uses.

    What a schema cannot say is checked by validate() alone: ts_ms at most
    MAX_FUTURE_MS ahead of the receiver's clock, and a payload of at most 512 bytes.
    """
    props: dict[str, Any] = {"v": {"const": VERSION}}
    required = ["v"]
    for name, kind, _places, lo, hi, nullable in _SPECS:
        if kind == fw_payload.KIND_STR:
            pattern = ID_RE if name == "bin" else _FW_RE
            spec: dict[str, Any] = {"type": "string", "pattern": f"^{pattern.pattern}$"}
        else:
            spec = {"type": "integer" if kind == fw_payload.KIND_INT else "number",
                    "minimum": lo, "maximum": hi}
        if nullable:
            spec = {"anyOf": [spec, {"type": "null"}]}
        props[name] = spec
        if name not in _OPTIONAL:
            required.append(name)
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": False}
