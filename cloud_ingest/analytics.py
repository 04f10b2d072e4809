"""What the live state derives from a bin's readings: emptyings, fill forecast, battery,
sensor health, density. Pure functions over plain values; cloud_ingest/state.py feeds
them from the operational store.

Only readings the firmware accepted (quality 4) count for fill trends and emptyings;
its own checks (covered, stuck, noisy) already marked the rest.
"""

import math
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
    quarter of the load. More than a tenth of the load left, or a fill still above
    20 %, makes it partial.
    """
    if before.quality != ACCEPTED or after.quality != ACCEPTED:
        return None
    if before.weight_kg is None or after.weight_kg is None:
        return None
    drop = before.weight_kg - after.weight_kg
    if drop < EMPTYING_MIN_KG or drop < EMPTYING_MIN_SHARE * before.weight_kg:
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


def forecast(points: list[Point], now_ms: int) -> Forecast | None:
    """Fit fill against time over accepted readings since the last emptying.

    The bound on time-to-full comes from the rate's 95 % interval (2 standard errors):
    a bin that fills steadily gets a narrow window, an erratic one a wide one.
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
    a, rate, se = fit
    now_h = (now_ms - t0) / 3_600_000
    current = a + rate * now_h

    def eta(r: float) -> int | None:
        if r <= 1e-6:
            return None
        hours = max(0.0, (FULL_PCT - current) / r)
        return now_ms + int(hours * 3_600_000)

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
