"""Compact binary encoding of readings: 24 bytes each, for LoRaWAN and NB-IoT uplinks.

A message is one marker byte 0xB1 and then 1..N readings of 24 bytes, big-endian:

    0   1  version (high 4 bits, = 1) | quality (low 4 bits)
    1   4  seq                      u32
    5   6  ts_ms                    u48
    11  2  fill, 0.1 %              u16   0xFFFF = null
    13  2  distance_mm              u16   0xFFFF = null
    15  3  weight, g                u24   0xFFFFFF = null
    18  2  battery_mv               u16   0xFFFF = null
    20  2  temp, 0.1 C              i16   -32768 = null
    22  2  flags                    u16

So 1 + 2 x 24 = 49 bytes: two readings fit the 51-byte LoRaWAN payload at the slowest
EU868 data rates. The bin id comes from the topic (or the LoRaWAN device), and the
firmware version is not carried (the gateway records "b1").

    >>> from firmware.core import binary
    >>> msg = binary.encode([r1, r2])     # 49 bytes
"""

from firmware.core.compat import const

MARKER = 0xB1
SIZE = 24
_VERSION = const(1)

_NULL16 = const(0xFFFF)
_NULL24 = const(0xFFFFFF)
_NULL_TEMP = const(-32768)


def _put(buf: bytearray, pos: int, value: int, size: int) -> None:
    for i in range(size):
        buf[pos + size - 1 - i] = (value >> (8 * i)) & 0xFF


def _get(buf: bytes, pos: int, size: int) -> int:
    v = 0
    for i in range(size):
        v = (v << 8) | buf[pos + i]
    return v


def encode_one(r: "Reading", buf: bytearray, pos: int) -> None:
    """Write one reading's 24 bytes into buf at pos."""
    if not 0 <= r.quality <= 15:
        raise ValueError("quality: must be 0..15")
    buf[pos] = (_VERSION << 4) | r.quality
    _put(buf, pos + 1, r.seq, 4)
    _put(buf, pos + 5, r.ts_ms, 6)
    _put(buf, pos + 11, _NULL16 if r.fill_dpct is None else r.fill_dpct, 2)
    _put(buf, pos + 13, _NULL16 if r.distance_mm is None else r.distance_mm, 2)
    _put(buf, pos + 15, _NULL24 if r.weight_g is None else r.weight_g, 3)
    _put(buf, pos + 18, _NULL16 if r.battery_mv is None else r.battery_mv, 2)
    t = _NULL_TEMP if r.temp_dc is None else r.temp_dc
    _put(buf, pos + 20, t & 0xFFFF, 2)
    _put(buf, pos + 22, r.flags, 2)


def encode(readings: list["Reading"]) -> bytes:
    """Encode readings as one binary message."""
    buf = bytearray(1 + SIZE * len(readings))
    buf[0] = MARKER
    for i, r in enumerate(readings):
        encode_one(r, buf, 1 + SIZE * i)
    return bytes(buf)


def decode_one(buf: bytes, pos: int) -> tuple[int, int, int, int, int | None, int | None,
                                              int | None, int | None, int | None, int]:
    """Return (version, quality, seq, ts_ms, fill_dpct, distance_mm, weight_g, battery_mv,
    temp_dc, flags) of the reading at pos; None for null fields."""
    head = buf[pos]
    fill = _get(buf, pos + 11, 2)
    dist = _get(buf, pos + 13, 2)
    weight = _get(buf, pos + 15, 3)
    batt = _get(buf, pos + 18, 2)
    temp = _get(buf, pos + 20, 2)
    if temp >= 0x8000:
        temp -= 0x10000
    return (head >> 4, head & 0x0F, _get(buf, pos + 1, 4), _get(buf, pos + 5, 6),
            None if fill == _NULL16 else fill, None if dist == _NULL16 else dist,
            None if weight == _NULL24 else weight, None if batt == _NULL16 else batt,
            None if temp == _NULL_TEMP else temp, _get(buf, pos + 22, 2))


# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from firmware.core.reading import Reading
