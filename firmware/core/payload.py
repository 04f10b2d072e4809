"""The v1 JSON payload: the reference encoding of a reading on the wire.

FIELDS is the one definition of the v1 schema. The device encodes from it and
the gateway (`protocol.v1`) validates against it, so the two cannot drift.
Fields are written in FIELDS order by hand: MicroPython dicts are unordered and
ESP32 floats are single precision, so `json.dumps` would not give the same bytes
on every port.

    >>> from firmware.core import payload
    >>> payload.encode_json(r)
    b'{"v":1,"bin":"bin-0001","seq":7,...}'
"""

from firmware.core.compat import const

# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from firmware.core.reading import Reading

VERSION = const(1)

KIND_INT = const(0)
KIND_DEC = const(1)  # decimal carried as a scaled integer on the device
KIND_STR = const(2)

# (wire name, Reading attribute, kind, decimals, min, max, nullable, unit)
# min/max are in wire units; strings use them as length bounds.
FIELDS = (
    ("v", None, KIND_INT, 0, 1, 1, False, ""),
    ("bin", "bin_id", KIND_STR, 0, 1, 32, False, ""),
    ("seq", "seq", KIND_INT, 0, 0, 2147483647, False, ""),
    ("ts_ms", "ts_ms", KIND_INT, 0, 0, 9007199254740991, False, "ms since 1970-01-01 UTC"),
    ("fill_pct", "fill_dpct", KIND_DEC, 1, 0, 100, True, "%"),
    ("distance_mm", "distance_mm", KIND_INT, 0, 0, 20000, True, "mm"),
    ("weight_kg", "weight_g", KIND_DEC, 3, 0, 2000, True, "kg"),
    ("battery_mv", "battery_mv", KIND_INT, 0, 0, 10000, True, "mV"),
    ("temp_c", "temp_dc", KIND_DEC, 1, -40, 125, True, "degC"),
    ("quality", "quality", KIND_INT, 0, 0, 4, False, "LwM2M 3435 quality code"),
    ("flags", "flags", KIND_INT, 0, 0, 65535, False, "bit field"),
    ("quality_level", "quality_level", KIND_INT, 0, 0, 100, True, "LwM2M 3435 quality level"),
    ("spread_mm", "spread_mm", KIND_INT, 0, 0, 20000, True, "mm"),
    ("fw", "fw", KIND_STR, 0, 1, 24, False, ""),
)

# Fields a v1 payload may leave out (read as null): added after the first devices shipped.
OPTIONAL = ("quality_level", "spread_mm")

# Bytes a v1 payload may take; the gateway rejects anything larger unread.
MAX_BYTES = const(512)


def _dec(value: int, places: int) -> str:
    """Format a scaled integer as a decimal string without floats."""
    sign = ""
    if value < 0:
        sign = "-"
        value = -value
    unit = 10**places
    whole = value // unit
    frac = str(value % unit)
    return sign + str(whole) + "." + "0" * (places - len(frac)) + frac


def _check_str(name: str, s: str, max_len: int) -> None:
    # Strings are written unescaped, so only a safe alphabet may pass.
    if not s or len(s) > max_len:
        raise ValueError(name + ": length must be 1.." + str(max_len))
    for ch in s:
        if not (ch.isalpha() or ch.isdigit() or ch in "-_.+"):
            raise ValueError(name + ": character not allowed: " + repr(ch))


def encode_json(r: "Reading") -> bytes:
    """Encode a Reading as v1 JSON bytes, fields in FIELDS order."""
    parts: list[str] = []
    for name, attr, kind, places, _lo, hi, _nullable, _unit in FIELDS:
        value = VERSION if attr is None else getattr(r, attr)
        if value is None:
            text = "null"
        elif kind == KIND_STR:
            text = str(value)
            _check_str(name, text, hi)
            text = '"' + text + '"'
        elif kind == KIND_DEC:
            text = _dec(value, places)
        else:
            text = str(value)
        parts.append('"' + name + '":' + text)
    return ("{" + ",".join(parts) + "}").encode()
