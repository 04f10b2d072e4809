"""The reporting policy: what wakes the radio at once, what waits, how long to sleep."""

import pytest

from firmware.core import reading
from firmware.core.policy import Policy, PolicyConfig

CFG = reading.BinConfig("bin-p", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
MIN = 60_000


def r(minute: int, fill_dpct: int | None = 300, temp_dc: int | None = 200) -> reading.Reading:
    """A reading at a given minute with chosen fill and temperature."""
    return reading.Reading("bin-p", minute, minute * MIN, fill_dpct, 700, 5000, 3600, temp_dc,
                           4, 0, "0.1.0")


def primed(**cfg: int) -> Policy:
    """A policy that has already sent one reading at minute 0 (fill 30 %)."""
    p = Policy(PolicyConfig(**cfg))
    assert p.on_reading(r(0)) == (True, "heartbeat")  # first reading after boot goes out
    p.sent(r(0))
    return p


def test_routine_readings_are_batched() -> None:
    """Seven quiet readings wait; the eighth wakes the radio for all of them."""
    p = primed(batch_size=8)
    decisions = [p.on_reading(r(m * 15))[0] for m in range(1, 9)]
    assert decisions == [False] * 7 + [True]
    assert p.on_reading(r(135)) == (True, "batch")


@pytest.mark.parametrize(("reading_", "why"), [
    (r(15, temp_dc=720), "fire"),                 # above the limit
    (r(15, temp_dc=310), "fire"),                 # rising 11 C in one interval
    (r(15, fill_dpct=860), "full"),               # crossed 85 %
    (r(15, fill_dpct=460), "change"),             # moved 16 points since last sent
])
def test_urgent_readings_go_at_once(reading_: reading.Reading, why: str) -> None:
    """Fire, a full-threshold crossing and a big change are sent immediately."""
    p = primed()
    assert p.on_reading(reading_) == (True, why)


def test_full_after_unusable_readings_is_news() -> None:
    """No usable fill since boot, then 90 %: that is a full crossing."""
    p = Policy(PolicyConfig())
    p.on_reading(r(0, fill_dpct=None))
    p.sent(r(0, fill_dpct=None))
    assert p.on_reading(r(15, fill_dpct=900)) == (True, "full")


def test_lid_and_heartbeat() -> None:
    """A lid wake sends; so does four hours of silence."""
    p = primed()
    assert p.on_reading(r(15), lid=True) == (True, "lid")
    p.sent(r(15))
    assert p.on_reading(r(15 + 240)) == (True, "heartbeat")


def test_clock_set_back_sends_a_heartbeat_instead_of_silence() -> None:
    """NTP moves a fast clock back by a day: the heartbeat is not held for a day."""
    p = primed(batch_size=96)
    p.sent(r(24 * 60))
    assert p.on_reading(r(24 * 60 + 15)) == (False, "")
    assert p.on_reading(r(30)) == (True, "heartbeat")  # the clock went back
    p.sent(r(30))
    assert p.on_reading(r(45)) == (False, "")  # counted from the new clock


def test_full_threshold_fires_once_per_crossing() -> None:
    """Staying above 85 % is not a new crossing."""
    p = primed(change_dpct=1000)
    assert p.on_reading(r(15, fill_dpct=870)) == (True, "full")
    p.sent(r(15, fill_dpct=870))
    assert p.on_reading(r(30, fill_dpct=880))[1] != "full"


def test_interval_adapts_to_fill() -> None:
    """Near full or filling fast: sample often. Nearly empty: rarely."""
    p = primed()
    assert p.next_interval_s() == 900
    p.on_reading(r(15, fill_dpct=100))
    assert p.next_interval_s() == 3600
    p.on_reading(r(30, fill_dpct=720))
    assert p.next_interval_s() == 300
    q = primed()
    q.on_reading(r(60, fill_dpct=450))  # +15 points in an hour: filling fast
    assert q.next_interval_s() == 300


def test_config_is_checked() -> None:
    """Inconsistent intervals are refused by name."""
    with pytest.raises(ValueError, match="interval_s"):
        PolicyConfig(interval_s=100, min_interval_s=300)
    with pytest.raises(ValueError, match="heartbeat_s"):
        PolicyConfig(heartbeat_s=60)
