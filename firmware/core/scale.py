"""Load-cell counts to grams, with an exact integer calibration.

Calibration is stored as a ratio (cal_grams of test mass gave cal_counts above
tare), so no float rounding differs between ports.

    >>> from firmware.core import scale
    >>> scale.grams(121500, 100000, cal_counts=215000, cal_grams=10000)
    1000
"""

from firmware.core.compat import const

# HX711 output is 24-bit two's complement; the rails mean the ADC is saturated.
COUNTS_MAX = const(0x7FFFFF)
COUNTS_MIN = const(-0x800000)

# Below-tare readings down to this much are drift and read as 0 g; beyond it
# the cell is faulty or mis-calibrated.
_NEGATIVE_TOLERANCE_G = const(500)

SATURATED = const(-1)
BELOW_TARE = const(-2)


def grams(counts: int, tare_counts: int, cal_counts: int, cal_grams: int) -> int:
    """Return weight in whole grams, or SATURATED / BELOW_TARE."""
    if counts >= COUNTS_MAX or counts <= COUNTS_MIN:
        return SATURATED
    net = (counts - tare_counts) * cal_grams
    # Round half away from zero with integers only.
    if net >= 0:
        g = (net + cal_counts // 2) // cal_counts
    else:
        g = -((-net + cal_counts // 2) // cal_counts)
    if g < 0:
        if -g > _NEGATIVE_TOLERANCE_G:
            return BELOW_TARE
        g = 0
    return g


def calibrate(tare_counts: int, loaded_counts: int, known_grams: int) -> tuple[int, int]:
    """Return (cal_counts, cal_grams) from a known mass; raise ValueError if unusable."""
    delta = loaded_counts - tare_counts
    if known_grams <= 0:
        raise ValueError("known_grams: must be > 0")
    if delta == 0:
        raise ValueError("loaded_counts: equal to tare, the cell did not respond")
    if delta < 0:
        return -delta, -known_grams
    return delta, known_grams
