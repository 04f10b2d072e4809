"""What the live state derives from a bin's readings: emptyings, fill forecast, battery,
sensor health, density. Pure functions over plain values; cloud_ingest/state.py feeds
them from the operational store.

Only readings the firmware accepted (quality 4) count for fill trends and emptyings;
its own checks (covered, stuck, noisy) already marked the rest.
"""

import itertools
import math
import time
from dataclasses import dataclass

ACCEPTED = 4
FLAG_STUCK = 0x0080
FLAG_COVERED = 0x0100
FLAG_NOISY = 0x0200
FLAG_NO_ECHO = 0x0002
FLAG_LID_OPEN = 0x0400
FLAG_TILTED = 0x0800
FAULT_FLAGS = FLAG_STUCK | FLAG_COVERED | FLAG_NOISY | FLAG_NO_ECHO

# An emptying: weight falls by at least this much (kg) and this share of what was in.
EMPTYING_MIN_KG = 2.0
EMPTYING_MIN_SHARE = 0.25
EMPTYING_MIN_FILL_DROP = 5.0  # points of fill, where both readings have a fill
# After an emptying more than this share of the weight left means a partial emptying.
PARTIAL_SHARE = 0.10
FULL_PCT = 85.0  # what "time to full" aims at (the firmware's full threshold)
BATTERY_EMPTY_MV = 2700  # 2 x AA lithium under an ESP32's regulator
FIRE_C = 70.0

# Typical bulk density in a collection bin, kg per litre: (low, high).
DENSITY_NORMS = {
    "paper": (0.03, 0.15), "cardboard": (0.03, 0.15), "plastic": (0.01, 0.08),
    "glass": (0.20, 0.60), "metal": (0.03, 0.25), "organic": (0.25, 0.75),
    "textile": (0.05, 0.30), "mixed": (0.05, 0.35),
}
MATERIALS = tuple(sorted(DENSITY_NORMS))


@dataclass(frozen=True, slots=True)
class Point:
    """One reading as the analytics see it."""

    ts_ms: int
    fill_pct: float | None
    weight_kg: float | None
    quality: int
    flags: int


@dataclass(frozen=True, slots=True)
class Emptying:
    """A collection recognised between two readings."""

    ts_ms: int
    kg_removed: float
    weight_before: float
    weight_after: float
    fill_before: float | None
    fill_after: float | None
    partial: bool


def emptying(before: Point, after: Point) -> Emptying | None:
    """The emptying between two consecutive accepted readings, if there was one.

    Weight decides (tonnage is what a city reports): a fall of at least 2 kg and a
    quarter of the load, with the fill falling too (by 5 points or more) where both
    readings have one, so a load-cell jump alone is not a collection. More than a
    tenth of the load left, or a fill still above 20 %, makes it partial.
    """
    if before.quality != ACCEPTED or after.quality != ACCEPTED:
        return None
    if before.weight_kg is None or after.weight_kg is None:
        return None
    drop = before.weight_kg - after.weight_kg
    if drop < EMPTYING_MIN_KG or drop < EMPTYING_MIN_SHARE * before.weight_kg:
        return None
    if before.fill_pct is not None and after.fill_pct is not None and \
            before.fill_pct - after.fill_pct < EMPTYING_MIN_FILL_DROP:
        return None
    partial = (after.weight_kg > PARTIAL_SHARE * before.weight_kg
               or (after.fill_pct is not None and after.fill_pct > 20.0))
    return Emptying(after.ts_ms, round(drop, 3), before.weight_kg, after.weight_kg,
                    before.fill_pct, after.fill_pct, partial)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Fill trend since the last emptying."""

    rate_pct_per_h: float
    full_at_ms: int | None  # when fill reaches FULL_PCT at this rate (None: not filling)
    full_at_low_ms: int | None  # the same for the rate's upper / lower 95 % bound
    full_at_high_ms: int | None
    points: int


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float] | None:
    """Least squares y = a + b x: (a, b, standard error of b), or None if degenerate."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    resid = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(resid / (n - 2) / sxx) if n > 2 else 0.0
    return a, b, se


HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
RHYTHM_MIN_DAYS = 14  # history needed before a weekly rhythm is believed
RHYTHM_MIN_HOURS = 6  # hours of observed filling needed on every weekday
HORIZON_H = 60 * 24  # how far ahead a forecast looks


def _weekday(ts_ms: int) -> int:
    return time.gmtime(ts_ms / 1000).tm_wday  # Monday 0, UTC


def weekly_factors(history: list[Point]) -> list[float] | None:
    """How fast the bin fills on each weekday (Monday first, UTC) relative to its
    average day, from consecutive accepted readings; None with less than 14 days of
    history or a weekday barely observed. Falls in fill (emptyings) are left out."""
    use = [p for p in history if p.quality == ACCEPTED and p.fill_pct is not None]
    if len(use) < 2 or use[-1].ts_ms - use[0].ts_ms < RHYTHM_MIN_DAYS * DAY_MS:
        return None
    rise = [0.0] * 7
    hours = [0.0] * 7
    for a, b in itertools.pairwise(use):
        dt_h = (b.ts_ms - a.ts_ms) / HOUR_MS
        change = float(b.fill_pct) - float(a.fill_pct)  # type: ignore[arg-type]
        if not 0 < dt_h <= 6 or change < -1.0:
            continue
        d = _weekday((a.ts_ms + b.ts_ms) // 2)
        rise[d] += max(0.0, change)
        hours[d] += dt_h
    if min(hours) < RHYTHM_MIN_HOURS:
        return None
    rates = [rise[d] / hours[d] for d in range(7)]
    mean = sum(rates) / 7
    if mean <= 0:
        return None
    return [round(r / mean, 4) for r in rates]


def _hours_to_full(current: float, rate: float, start_ms: int,
                   factors: list[float] | None) -> float | None:
    """Hours until FULL_PCT at `rate` (scaled by the weekday factors, hour by hour)."""
    if rate <= 1e-6:
        return None
    if current >= FULL_PCT:
        return 0.0
    if factors is None:
        return (FULL_PCT - current) / rate
    fill = current
    for h in range(HORIZON_H):
        step = rate * factors[_weekday(start_ms + h * HOUR_MS)]
        if fill + step >= FULL_PCT:
            return h + (FULL_PCT - fill) / step
        fill += step
    return None


def forecast(points: list[Point], now_ms: int,
             factors: list[float] | None = None) -> Forecast | None:
    """Fit fill against time over accepted readings since the last emptying.

    The bound on time-to-full comes from the rate's 95 % interval (2 standard errors):
    a bin that fills steadily gets a narrow window, an erratic one a wide one. With
    weekday factors (weekly_factors), the fitted rate is taken as the average of the
    weekdays it was measured over, and the forecast steps through the coming days at
    each weekday's own rate: a bin by an office fills on weekdays, not at weekends.
    """
    use = [p for p in points if p.quality == ACCEPTED and p.fill_pct is not None]
    if len(use) < 3:
        return None
    t0 = use[0].ts_ms
    xs = [(p.ts_ms - t0) / 3_600_000 for p in use]
    ys = [float(p.fill_pct) for p in use]  # type: ignore[arg-type]
    fit = _fit(xs, ys)
    if fit is None:
        return None
    _a, rate, se = fit
    # The level now: the newest reading, carried forward at the fitted rate. (The line's
    # own value lags when the rate changed inside the window, e.g. over a weekend.)
    current = ys[-1] + rate * (now_ms - use[-1].ts_ms) / 3_600_000
    scale = 1.0
    if factors is not None:
        # The fit window's average weekday factor, hour by hour.
        span = range(use[0].ts_ms, max(use[-1].ts_ms, use[0].ts_ms + 1), HOUR_MS)
        window = [factors[_weekday(t)] for t in span]
        scale = sum(window) / len(window)
        if scale <= 0:
            factors, scale = None, 1.0

    def eta(r: float) -> int | None:
        hours = _hours_to_full(current, r / scale, now_ms, factors)
        return None if hours is None else now_ms + int(hours * 3_600_000)

    return Forecast(round(rate, 4), eta(rate), eta(rate + 2 * se), eta(rate - 2 * se),
                    len(use))


def battery_days(samples: list[tuple[int, int]]) -> float | None:
    """Days until the battery reaches BATTERY_EMPTY_MV at its fitted rate of fall.

    samples: (ts_ms, battery_mv), at least a day apart first to last; None while the
    voltage is not falling measurably.
    """
    if len(samples) < 3 or samples[-1][0] - samples[0][0] < 86_400_000:
        return None
    t0 = samples[0][0]
    fit = _fit([(t - t0) / 86_400_000 for t, _ in samples], [float(v) for _, v in samples])
    if fit is None:
        return None
    a, slope, _se = fit
    if slope >= -0.01:  # mV per day: no measurable fall
        return None
    now_d = (samples[-1][0] - t0) / 86_400_000
    return round(max(0.0, (BATTERY_EMPTY_MV - (a + slope * now_d)) / slope), 1)


def sensor_health(points: list[Point]) -> tuple[int, list[str]]:
    """A 0-100 score (share of recent readings without a sensor fault) and the faults seen."""
    if not points:
        return 100, []
    faulty = [p for p in points if p.flags & FAULT_FLAGS]
    seen = []
    for flag, name in ((FLAG_STUCK, "stuck"), (FLAG_COVERED, "covered"),
                       (FLAG_NOISY, "noisy"), (FLAG_NO_ECHO, "no_echo")):
        if any(p.flags & flag for p in points):
            seen.append(name)
    return round(100 * (1 - len(faulty) / len(points))), seen


NOISE_RISE_MM_PER_DAY = 2.0
NOISE_MIN_MM = 10


def noise_rising(samples: list[tuple[int, int]]) -> bool:
    """True if the spread of the distance samples grows (a dirty or failing sensor):
    over at least two days, rising 2 mm a day or more, and 10 mm or more now."""
    if len(samples) < 6 or samples[-1][0] - samples[0][0] < 2 * DAY_MS:
        return False
    t0 = samples[0][0]
    fit = _fit([(t - t0) / DAY_MS for t, _ in samples], [float(s) for _, s in samples])
    if fit is None:
        return False
    a, slope, _se = fit
    now = a + slope * (samples[-1][0] - t0) / DAY_MS
    return slope >= NOISE_RISE_MM_PER_DAY and now >= NOISE_MIN_MM


def density(material: str, weight_kg: float | None, fill_pct: float | None,
            capacity_l: float | None) -> tuple[float | None, bool]:
    """(kg per litre, likely contamination): a density outside the material's norm.

    Judged only from 20 % fill up, where the volume is large enough to mean something.
    """
    if weight_kg is None or fill_pct is None or not capacity_l or fill_pct < 20.0:
        return None, False
    value = weight_kg / (fill_pct / 100 * capacity_l)
    low, high = DENSITY_NORMS.get(material, DENSITY_NORMS["mixed"])
    return round(value, 4), not low <= value <= high


def ngsi_status(flags: int, temp_c: float | None) -> str:
    """FIWARE WasteContainer status: burning, dropped (tilted), lidOpen or ok."""
    if temp_c is not None and temp_c >= FIRE_C:
        return "burning"
    if flags & FLAG_TILTED:
        return "dropped"
    if flags & FLAG_LID_OPEN:
        return "lidOpen"
    return "ok"
