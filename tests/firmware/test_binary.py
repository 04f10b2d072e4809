"""The 24-byte binary encoding: size, round trip through the gateway's decoder, equal to JSON."""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.core import binary, payload, reading
from protocol import binary as pbinary
from protocol import v1
from protocol.errors import ProtocolError

CFG = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
NOW_MS = 1_764_800_000_000


def sample(seq: int, **raw: int | None) -> reading.Reading:
    """A reading from raw sensor values (defaults: a half-full bin)."""
    args = {"distance_mm": 650, "counts": 300_000, "battery_mv": 3600, "temp_dc": -45}
    args.update(raw)
    return reading.make_reading(CFG, seq, NOW_MS - 60_000 * (10 - seq), True, **args)  # type: ignore[arg-type]


def test_two_readings_fit_a_lorawan_payload() -> None:
    """24 bytes a reading; marker plus two readings is 49 <= 51 bytes."""
    msg = binary.encode([sample(1), sample(2)])
    assert len(msg) == 49
    assert binary.SIZE == 24


@pytest.mark.parametrize("raw", [
    {}, {"distance_mm": None}, {"counts": 0x7FFFFF}, {"temp_dc": None}, {"distance_mm": 100},
    {"battery_mv": None},
])
def test_binary_decodes_to_the_same_reading_as_json(raw: dict[str, int | None]) -> None:
    """Binary and JSON of one reading decode to the same values (fw aside)."""
    r = sample(3, **raw)
    from_json = v1.decode(payload.encode_json(r), "bin-0001", NOW_MS)
    [from_bin] = pbinary.decode(binary.encode([r]), "bin-0001", NOW_MS)
    assert from_bin.fw == "b1"
    assert {**json.loads(payload.encode_json(r)), "fw": "b1"} == from_bin.to_wire()
    assert from_bin.to_wire() == {**from_json.to_wire(), "fw": "b1"}


def test_bad_binary_names_the_problem() -> None:
    """Wrong length, version and out-of-range values are named."""
    good = binary.encode([sample(1)])
    with pytest.raises(ProtocolError, match="length"):
        pbinary.decode(good[:-1], "bin-0001", NOW_MS)
    bad_version = bytes([good[0], 0x24]) + good[2:]
    with pytest.raises(ProtocolError, match=r"readings\[0\]\.v"):
        pbinary.decode(bad_version, "bin-0001", NOW_MS)
    over = bytearray(good)
    over[12] = 0xFF  # fill 0x03FF -> 102.3 %
    over[11] = 0x03
    with pytest.raises(ProtocolError, match=r"readings\[0\]\.fill_pct: must be within"):
        pbinary.decode(bytes(over), "bin-0001", NOW_MS)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_raise_only_protocol_error(data: bytes) -> None:
    """Arbitrary bytes after the marker: readings or a ProtocolError, nothing else."""
    with contextlib.suppress(ProtocolError):
        pbinary.decode(bytes([binary.MARKER]) + data, "bin-0001", NOW_MS)
