"""Decode the compact binary reading message (firmware/core/binary.py is the reference).

Each reading is checked by the same rules as the v1 JSON payload (protocol.v1), so
the two encodings cannot accept different things. Errors name the reading's index.
"""

from firmware.core import binary as fw_binary
from protocol import v1
from protocol.errors import ProtocolError

MARKER = fw_binary.MARKER
SIZE = fw_binary.SIZE
# Firmware version recorded for binary readings, which do not carry one.
FW_UNKNOWN = "b1"
MAX_READINGS = 20


def is_binary(raw: bytes) -> bool:
    """True if raw is a binary reading message rather than JSON."""
    return len(raw) > 0 and raw[0] == MARKER


def decode(raw: bytes, bin_id: str, now_ms: int) -> list[v1.Reading]:
    """Decode every reading of a binary message for bin_id, or raise ProtocolError."""
    if not is_binary(raw):
        raise ProtocolError("payload", f"binary message must start with 0x{MARKER:02X}")
    count, extra = divmod(len(raw) - 1, SIZE)
    if count == 0 or extra:
        raise ProtocolError("payload", f"binary length must be 1 + n x {SIZE}", len(raw))
    if count > MAX_READINGS:
        raise ProtocolError("payload", f"at most {MAX_READINGS} readings per message", count)
    out = []
    for i in range(count):
        (version, quality, seq, ts_ms, fill, dist, weight, batt, temp,
         flags) = fw_binary.decode_one(raw, 1 + SIZE * i)
        if version != 1:
            raise ProtocolError(f"readings[{i}].v", "unknown binary version, expected 1",
                                version)
        wire = {"v": 1, "bin": bin_id, "seq": seq, "ts_ms": ts_ms,
                "fill_pct": None if fill is None else fill / 10,
                "distance_mm": dist,
                "weight_kg": None if weight is None else weight / 1000,
                "battery_mv": batt, "temp_c": None if temp is None else temp / 10,
                "quality": quality, "flags": flags, "fw": FW_UNKNOWN}
        try:
            out.append(v1.validate(wire, bin_id, now_ms))
        except ProtocolError as e:
            raise ProtocolError(f"readings[{i}].{e.field}", e.rule, e.value) from None
    return out
