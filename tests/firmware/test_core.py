"""The portable core under CPython: fill model, scale, sequence numbers, payload."""

import json
from pathlib import Path

import pytest

from firmware.core import fill, payload, reading, scale
from firmware.core.seq import SeqCounter
from protocol import v1

CFG = reading.BinConfig("bin-0001", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
NOW_MS = 1_764_800_000_000


def make(distance_mm: int | None = 650, counts: int | None = 300_000,
         temp_dc: int | None = 200) -> reading.Reading:
    """A reading from the default config."""
    return reading.make_reading(CFG, 1, NOW_MS, True, distance_mm, counts, 3600, temp_dc)


@pytest.mark.parametrize(("distance", "expected"), [
    (250, 900),      # closest the sensor can see: 90 %
    (650, 500),
    (1150, 0),       # floor
    (1190, 0),       # a little past the floor: noise, still empty
    (1201, fill.BEYOND_DEPTH),
    (249, fill.TOO_CLOSE),
    (None, fill.NO_ECHO),
])
def test_fill_from_distance(distance: int | None, expected: int) -> None:
    """Fill in tenths of a percent, and the fault states."""
    assert fill.fill_dpct(distance, 1000, 150, 250) == expected


def test_too_close_is_never_zero_percent() -> None:
    """Something in the dead zone is its own state, flagged, with no fill value."""
    r = make(distance_mm=100)
    assert r.fill_dpct is None
    assert r.flags & reading.FLAG_TOO_CLOSE
    assert r.quality == reading.Q_SUSPICIOUS


def test_weight_from_counts_and_calibration() -> None:
    """10 kg calibration: 215000 counts per 10 kg."""
    assert scale.grams(84211 + 21500, 84211, 215000, 10000) == 1000
    assert scale.grams(84211 - 100, 84211, 215000, 10000) == 0  # drift below tare reads 0
    assert scale.grams(84211 - 2_000_000, 84211, 215000, 10000) == scale.BELOW_TARE
    assert scale.grams(scale.COUNTS_MAX, 84211, 215000, 10000) == scale.SATURATED


def test_calibrate_from_known_mass() -> None:
    """A known mass gives the ratio grams() uses, either sign of cell wiring."""
    cal_counts, cal_grams = scale.calibrate(1000, 216000, 10000)
    assert scale.grams(1000 + 215000, 1000, cal_counts, cal_grams) == 10000
    cal_counts, cal_grams = scale.calibrate(1000, -214000, 10000)
    assert scale.grams(1000 - 215000, 1000, cal_counts, cal_grams) == 10000
    with pytest.raises(ValueError, match="loaded_counts"):
        scale.calibrate(1000, 1000, 10000)


def test_faults_become_flags_not_numbers() -> None:
    """No echo and a saturated cell give nulls with flags and a lowered quality."""
    r = make(distance_mm=None, counts=scale.COUNTS_MAX)
    assert r.fill_dpct is None
    assert r.weight_g is None
    assert r.flags & reading.FLAG_NO_ECHO
    assert r.flags & reading.FLAG_LOAD_SATURATED
    assert r.quality == reading.Q_REJECTED


def test_values_outside_the_wire_range_are_flagged() -> None:
    """A reading the payload cannot carry whole still goes out, with a flag."""
    r = make(distance_mm=25000, temp_dc=3000)
    assert r.distance_mm is None
    assert r.temp_dc is None
    assert r.flags & reading.FLAG_OUT_OF_RANGE
    v1.decode(payload.encode_json(r), "bin-0001", NOW_MS)


def test_sequence_survives_reboot_without_reuse(tmp_path: Path) -> None:
    """After a reboot (a new counter on the same file) numbers continue above any handed out."""
    path = str(tmp_path / "seq")
    a = SeqCounter(path, lease=8)
    first = [a.next() for _ in range(5)]
    assert first == [0, 1, 2, 3, 4]
    b = SeqCounter(path, lease=8)  # reboot: 5, 6, 7 of the lease are skipped, never reused
    assert b.next() == 8
    assert [b.next() for _ in range(10)][-1] == 18
    assert SeqCounter(path, lease=8).next() > 18


def test_sequence_writes_flash_once_per_lease(tmp_path: Path) -> None:
    """Flash wear: one file write per lease of 64 numbers, not one per reading."""
    writes: list[int] = []

    class Counting(SeqCounter):
        def _store(self, value: int) -> None:
            writes.append(value)
            super()._store(value)

    c = Counting(str(tmp_path / "seq"), lease=64)
    for _ in range(130):
        c.next()
    assert writes == [64, 128, 192]


def test_sequence_ignores_a_torn_temp_file(tmp_path: Path) -> None:
    """A power cut while writing the temp file leaves the previous lease in force."""
    path = tmp_path / "seq"
    c = SeqCounter(str(path), lease=4)
    c.next()
    (tmp_path / "seq.tmp").write_text("12")  # half-written, never renamed
    assert SeqCounter(str(path), lease=4).next() == 4


def test_payload_is_what_the_gateway_decodes() -> None:
    """The firmware encoder and the gateway decoder agree field by field."""
    r = make()
    raw = payload.encode_json(r)
    decoded = v1.decode(raw, "bin-0001", NOW_MS)
    assert decoded.fill_pct == r.fill_dpct / 10
    assert decoded.weight_kg == r.weight_g / 1000
    assert decoded.temp_c == r.temp_dc / 10
    assert json.loads(raw) == decoded.to_wire()
    assert list(json.loads(raw)) == [f[0] for f in payload.FIELDS]
    assert len(raw) <= payload.MAX_BYTES


def test_payload_refuses_unsafe_strings() -> None:
    """Strings go out unescaped, so the encoder refuses anything outside the safe alphabet."""
    r = make()
    r.fw = 'x"y'
    with pytest.raises(ValueError, match="fw"):
        payload.encode_json(r)


def test_tapered_bin_fill_is_by_volume() -> None:
    """A bin 400 mm wide at the floor and 800 at the top, filled to half its height, is
    (600^3 - 400^3) / (800^3 - 400^3) = 34 % full by volume, not 50 %."""
    assert fill.volume_dpct(500, 1000, 400, 800) == 339
    assert fill.volume_dpct(0, 1000, 400, 800) == 0
    assert fill.volume_dpct(1000, 1000, 400, 800) == 1000
    assert fill.volume_dpct(500, 1000) == 500  # straight walls
    tapered = reading.BinConfig("bin-t", 1000, 150, 250, 84211, 215000, 10000, "0.1.0",
                                bottom_mm=400, top_mm=800)
    r = reading.make_reading(tapered, 1, NOW_MS, True, 650, 300_000, 3600, 200)
    assert r.fill_dpct == 339
    with pytest.raises(ValueError, match="bottom_mm, top_mm"):
        reading.BinConfig("bin-t", 1000, 150, 250, 0, 1, 1, "0.1.0", bottom_mm=400)
