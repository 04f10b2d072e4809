"""The v1 payload decoder: every rule named in errors, and no other exception for any input."""

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import batch, topics, v1
from protocol.errors import ProtocolError

NOW_MS = 1_764_800_000_000
GOOD: dict[str, Any] = {
    "v": 1, "bin": "bin-0001", "seq": 7, "ts_ms": NOW_MS - 60_000, "fill_pct": 58.0,
    "distance_mm": 620, "weight_kg": 5.651, "battery_mv": 3600, "temp_c": 21.5, "quality": 4,
    "flags": 0, "fw": "0.1.0",
}


def raw(**changes: Any) -> bytes:
    """GOOD with some fields changed (None sets a field to null)."""
    obj = dict(GOOD)
    obj.update(changes)
    return json.dumps(obj).encode()


def test_good_payload_decodes() -> None:
    """All fields arrive typed and in wire units."""
    r = v1.decode(raw(), "bin-0001", NOW_MS)
    assert r.bin_id == "bin-0001"
    assert r.seq == 7
    assert r.fill_pct == 58.0
    assert r.weight_kg == 5.651
    assert r.to_wire() == {**GOOD, "quality_level": None, "spread_mm": None}


def test_optional_fields_are_checked_when_present() -> None:
    """quality_level and spread_mm may be absent (older firmware) but never wrong."""
    r = v1.decode(raw(quality_level=87, spread_mm=12), "bin-0001", NOW_MS)
    assert (r.quality_level, r.spread_mm) == (87, 12)
    with pytest.raises(ProtocolError, match=r"quality_level: must be within 0\.\.100"):
        v1.decode(raw(quality_level=101), "bin-0001", NOW_MS)
    with pytest.raises(ProtocolError, match="spread_mm: must be a number"):
        v1.decode(raw(spread_mm="wide"), "bin-0001", NOW_MS)


@pytest.mark.parametrize(("payload", "field", "rule"), [
    (b"{not json", "payload", "malformed JSON"),
    (b"\xff\xfe", "payload", "UTF-8"),
    (b"[1, 2]", "payload", "JSON object"),
    (raw(v=2), "v", "unknown schema version"),
    (raw(v=True), "v", "unknown schema version"),
    (raw(seq="7"), "seq", "must be a number"),
    (raw(seq=7.5), "seq", "must be an integer"),
    (raw(seq=-1), "seq", "within"),
    (raw(fill_pct=100.1), "fill_pct", "within 0..100"),
    (raw(weight_kg=-0.5), "weight_kg", "within 0..2000"),
    (raw(battery_mv=True), "battery_mv", "must be a number"),
    (raw(quality=None), "quality", "must not be null"),
    (raw(bin="bin 1"), "bin", "must be a string matching"),
    (raw(bin="bin-0002"), "bin", "must equal the topic's bin id"),
    (raw(ts_ms=NOW_MS + 3_600_000), "ts_ms", "in the future"),
    (raw(extra=1), "extra", "unknown field"),
    (b'{"v":1,"bin":"bin-0001","seq":NaN}', "payload", "NaN and Infinity"),
    (raw(temp_c=float("inf")), "payload", "NaN and Infinity"),
    (b" " * 600, "payload", "larger than"),
])
def test_bad_payloads_name_field_and_rule(payload: bytes, field: str, rule: str) -> None:
    """Each broken rule is reported with the field and a readable rule."""
    with pytest.raises(ProtocolError) as info:
        v1.decode(payload, "bin-0001", NOW_MS)
    assert info.value.field == field
    assert rule in info.value.rule


def test_missing_field_is_named() -> None:
    """A required field that is absent is named."""
    obj = dict(GOOD)
    del obj["flags"]
    with pytest.raises(ProtocolError, match="flags: required field is missing"):
        v1.decode(json.dumps(obj).encode(), None, NOW_MS)


def test_nullable_sensor_values() -> None:
    """A sensor fault is carried as null, not a made-up number."""
    r = v1.decode(raw(fill_pct=None, distance_mm=None, flags=2, quality=1), "bin-0001", NOW_MS)
    assert r.fill_pct is None
    assert r.distance_mm is None


def test_old_backlog_is_fine() -> None:
    """A week-old reading from a bin that was offline is accepted."""
    v1.decode(raw(ts_ms=NOW_MS - 7 * 86_400_000), "bin-0001", NOW_MS)


def test_topic_parsing() -> None:
    """Topics name the bin; anything else is a ProtocolError."""
    assert topics.bin_of("bins/bin-0001/telemetry") == "bin-0001"
    for bad in ("bins//telemetry", "bins/x", "other/x/telemetry", "bins/a/b/c"):
        with pytest.raises(ProtocolError):
            topics.bin_of(bad)


def test_batch_round_trip_and_error_index() -> None:
    """A batch names the bad reading by index; its id depends only on the keys."""
    body = batch.encode("gw-1", [GOOD, dict(GOOD, seq=8)])
    b = batch.decode(body, NOW_MS)
    assert [r.seq for r in b.readings] == [7, 8]
    assert b.batch_id == batch.batch_id_of([("bin-0001", 7), ("bin-0001", 8)])
    bad = batch.encode("gw-1", [GOOD, dict(GOOD, fill_pct=101)])
    with pytest.raises(ProtocolError) as info:
        batch.decode(bad, NOW_MS)
    assert info.value.field == "readings[1].fill_pct"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=6),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=700))
def test_any_bytes_raise_only_protocol_error(data: bytes) -> None:
    """Arbitrary bytes: a Reading or a ProtocolError, nothing else."""
    with contextlib.suppress(ProtocolError):
        v1.decode(data, "bin-0001", NOW_MS)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([*GOOD, "x"]), json_values, max_size=14))
def test_any_json_object_raises_only_protocol_error(obj: dict[str, Any]) -> None:
    """Arbitrary objects over the known keys: a Reading or a ProtocolError, nothing else."""
    merged = dict(GOOD)
    merged.update(obj)
    with contextlib.suppress(ProtocolError):
        v1.decode(json.dumps(merged).encode(), None, NOW_MS)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["batch_id", "gateway", "readings"]), json_values))
def test_any_batch_raises_only_protocol_error(obj: dict[str, Any]) -> None:
    """Arbitrary batch bodies: a Batch or a ProtocolError, nothing else."""
    with contextlib.suppress(ProtocolError):
        batch.decode(json.dumps(obj).encode(), NOW_MS)
