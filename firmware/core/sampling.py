"""Several samples per wake into one trustworthy reading.

- robust(): median of the samples after dropping outliers (further than 3 median
  absolute deviations, at least floor_mm, from the median), with the spread and count
  of what was kept. A lone echo off a falling bag does not move the reading.
- History: what the previous wakes saw, for checks one wake cannot make: a stuck
  sensor (exactly the same raw value for stuck_wakes wakes; real ultrasonic readings
  jitter), and a cover over the sensor (fill jumps towards full while the weight
  does not move: a bag or a box lying on the bin, not waste in it).
- emptied(): the fill sensor just saw an emptying (the trigger for re-zeroing the
  scale, firmware/core/zeroing.py).
- make_sampled_reading(): a Reading with those flags, the LwM2M quality code lowered
  accordingly, a 0-100 quality level, and the spread in mm.

    h = History()
    r = make_sampled_reading(cfg, seq, ts_ms, synced, distances, counts, mv, dc, h)
"""

from firmware.core import reading
from firmware.core.compat import const

FLAG_STUCK = const(0x0080)
FLAG_COVERED = const(0x0100)
FLAG_NOISY = const(0x0200)

# Spread (mm) of kept samples above which a reading is noisy; four times it, rejected.
NOISY_SPREAD_MM = const(30)
# Outliers are judged against at least this deviation (ultrasonic jitter is a few mm).
_OUTLIER_FLOOR_MM = const(15)
_STUCK_WAKES = const(12)
# A cover: fill up by at least this much to at least that much, weight within this.
_COVER_JUMP_DPCT = const(400)
_COVER_MIN_DPCT = const(800)
_COVER_WEIGHT_G = const(1000)
# An emptying: a trustworthy fill at most this, at least that far below the one before.
_EMPTIED_FILL_DPCT = const(30)
_EMPTIED_DROP_DPCT = const(200)
# Flags that make a fill reading untrustworthy for that, or mean the bin is being handled.
_DOUBT = FLAG_STUCK | FLAG_COVERED | FLAG_NOISY | reading.FLAG_LID_OPEN | reading.FLAG_TILTED


def median(values: list[int]) -> int:
    """Median of a non-empty list (lower middle for even counts: stays an int)."""
    s = sorted(values)
    return s[(len(s) - 1) // 2]


def robust(samples: list[int | None], floor_mm: int = _OUTLIER_FLOOR_MM
           ) -> tuple[int | None, int | None, int]:
    """Return (median of inliers, their spread, how many were kept)."""
    valid = [x for x in samples if x is not None]
    if not valid:
        return None, None, 0
    m = median(valid)
    mad = median([abs(x - m) for x in valid])
    limit = max(3 * mad, floor_mm)
    kept = [x for x in valid if abs(x - m) <= limit]
    return median(kept), max(kept) - min(kept), len(kept)


class History:
    """What earlier wakes saw (RTC memory on the device)."""

    def __init__(self, stuck_wakes: int = _STUCK_WAKES) -> None:
        self.stuck_wakes = stuck_wakes
        self.last_raw = None  # type: int | None
        self.same_count = 0
        self.prev_fill = None  # type: int | None
        self.prev_weight_g = None  # type: int | None

    def stuck(self, raw: int | None) -> bool:
        """Count identical raw values; True once stuck_wakes in a row were the same."""
        if raw is not None and raw == self.last_raw:
            self.same_count += 1
        else:
            self.same_count = 1 if raw is not None else 0
        self.last_raw = raw
        return self.same_count >= self.stuck_wakes

    def covered(self, fill: int | None, weight_g: int | None) -> bool:
        """True if fill jumped towards full while the weight stayed put."""
        covered = (fill is not None and weight_g is not None and self.prev_fill is not None
                   and self.prev_weight_g is not None
                   and fill - self.prev_fill >= _COVER_JUMP_DPCT and fill >= _COVER_MIN_DPCT
                   and abs(weight_g - self.prev_weight_g) < _COVER_WEIGHT_G)
        if not covered:
            # A covered reading does not become the baseline for the next one.
            if fill is not None:
                self.prev_fill = fill
            if weight_g is not None:
                self.prev_weight_g = weight_g
        return covered


def emptied(prev_fill: int | None, r: reading.Reading) -> bool:
    """The bin was just emptied: this fill is trustworthy and nearly empty, the fill
    before it was not (the reading's weight may still be doubtful: drift)."""
    return (prev_fill is not None and r.fill_dpct is not None and not r.flags & _DOUBT
            and r.fill_dpct <= _EMPTIED_FILL_DPCT
            and prev_fill - r.fill_dpct >= _EMPTIED_DROP_DPCT)


def make_sampled_reading(cfg: reading.BinConfig, seq: int, ts_ms: int, synced: bool,
                         distances: list[int | None], counts: list[int | None],
                         battery_mv: int | None, temp_dc: int | None,
                         history: History) -> reading.Reading:
    """A reading from several samples, checked against the wakes before it."""
    distance, spread, kept = robust(distances)
    valid_counts = [c for c in counts if c is not None]
    count = median(valid_counts) if valid_counts else None
    r = reading.make_reading(cfg, seq, ts_ms, synced, distance, count, battery_mv, temp_dc)
    r.spread_mm = spread
    level = 100 * kept // len(distances) if distances else 0
    if spread is not None and spread > NOISY_SPREAD_MM:
        r.flags |= FLAG_NOISY
        level -= min(50, (spread - NOISY_SPREAD_MM) * 50 // NOISY_SPREAD_MM)
        worst = reading.Q_REJECTED_PROBABLY if spread > 4 * NOISY_SPREAD_MM \
            else reading.Q_SUSPICIOUS
        r.quality = min(r.quality, worst)
    if history.stuck(distance):
        r.flags |= FLAG_STUCK
        r.quality = min(r.quality, reading.Q_SUSPICIOUS)
        level = min(level, 30)
    if history.covered(r.fill_dpct, r.weight_g):
        r.flags |= FLAG_COVERED
        r.quality = min(r.quality, reading.Q_SUSPICIOUS)
        level = min(level, 20)
    if r.quality <= reading.Q_REJECTED_PROBABLY:
        level = min(level, 10)
    r.quality_level = max(0, level)
    return r
