"""Samples into readings: outliers, noise, a stuck sensor, a bag over the sensor."""

from firmware.core import reading, sampling
from firmware.core.policy import Policy, PolicyConfig
from firmware.core.sampling import History, make_sampled_reading

CFG = reading.BinConfig("bin-s", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
TARE = 84211


def counts_for(kg: float) -> list[int | None]:
    """Load-cell samples for a load."""
    return [int(TARE + kg * 21500)] * 3


def take(h: History, minute: int, distances: list[int | None], kg: float) -> reading.Reading:
    """One wake's reading."""
    return make_sampled_reading(CFG, minute, minute * 60_000, True, distances, counts_for(kg),
                                3600, 200, h)


def test_an_outlier_does_not_move_the_reading() -> None:
    """One echo off something falling past is dropped; the spread stays small."""
    assert sampling.robust([650, 652, 649, 120, 651]) == (650, 3, 4)
    r = take(History(), 0, [650, 652, 649, 120, 651], 40)
    assert r.fill_dpct == 500
    assert r.quality == reading.Q_ACCEPTED
    assert r.quality_level == 80  # 4 of 5 samples kept
    assert r.spread_mm == 3


def test_noisy_samples_lower_quality() -> None:
    """A wide spread is flagged; a very wide one is probably wrong."""
    noisy = take(History(), 0, [600, 640, 620, 660, 630], 40)
    assert noisy.flags & sampling.FLAG_NOISY
    assert noisy.quality == reading.Q_SUSPICIOUS
    assert noisy.quality_level is not None
    assert noisy.quality_level < 80
    wild = sampling.robust([300, 450, 600, 750, 900])
    assert wild[1] is not None
    assert wild[1] > 4 * sampling.NOISY_SPREAD_MM


def test_no_echo_at_all_is_rejected_not_zero() -> None:
    """Every sample missing: no fill, flag, rejected, level 0."""
    r = take(History(), 0, [None] * 5, 40)
    assert r.fill_dpct is None
    assert r.flags & reading.FLAG_NO_ECHO
    assert r.quality_level == 0


def test_stuck_sensor_is_flagged() -> None:
    """The very same value for 12 wakes is a stuck sensor, not a quiet bin."""
    h = History()
    results = [take(h, m, [700] * 5, 30) for m in range(12)]
    assert not results[10].flags & sampling.FLAG_STUCK
    assert results[11].flags & sampling.FLAG_STUCK
    assert results[11].quality == reading.Q_SUSPICIOUS
    moving = take(h, 12, [703, 702, 704, 703, 702], 30)
    assert not moving.flags & sampling.FLAG_STUCK


def test_bag_over_the_sensor_is_not_full() -> None:
    """Fill jumps to 85 % with no weight change: covered, suspicious, no full alert."""
    h = History()
    policy = Policy(PolicyConfig())
    before = take(h, 0, [750] * 5, 25)  # 40 %
    policy.on_reading(before)
    policy.sent(before)
    bag = take(h, 15, [300, 301, 299, 300, 302], 25.2)  # something lying on top
    assert bag.flags & sampling.FLAG_COVERED
    assert bag.quality == reading.Q_SUSPICIOUS
    assert policy.on_reading(bag) == (False, "")
    # Taken off again: back to normal, and the baseline was not moved by the bag.
    after = take(h, 30, [748, 750, 751, 749, 750], 25.4)
    assert not after.flags & sampling.FLAG_COVERED


def test_really_full_bin_is_full() -> None:
    """Fill rising to full with the weight rising too is a full bin, alert and all."""
    h = History()
    policy = Policy(PolicyConfig())
    before = take(h, 0, [750] * 5, 25)
    policy.on_reading(before)
    policy.sent(before)
    full = take(h, 15, [300, 301, 299, 300, 302], 60)
    assert not full.flags & sampling.FLAG_COVERED
    assert full.quality == reading.Q_ACCEPTED
    assert policy.on_reading(full) == (True, "full")
