"""Fill model: distance from a top-mounted sensor to fill level, in integer units.

Only rectangular (straight-walled) bins in this slice. Results are tenths of a
percent so every platform, including single-precision-float ESP32 builds,
computes the same number.

    >>> from firmware.core import fill
    >>> fill.fill_dpct(400, depth_mm=1000, offset_mm=0)
    600
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x: int) -> int:
        return x

# Outcomes of a distance check; fill_dpct returns one of these negatives instead
# of inventing a number (a covered or blinded sensor is not an empty bin).
NO_ECHO = const(-1)
TOO_CLOSE = const(-2)
BEYOND_DEPTH = const(-3)

# A reading this far past the floor is a sensor fault, not an empty bin.
_DEPTH_SLACK_MM = const(50)


def fill_dpct(distance_mm: int | None, depth_mm: int, offset_mm: int,
              dead_zone_mm: int = 0) -> int:
    """Return fill in tenths of a percent (0..1000), or NO_ECHO / TOO_CLOSE / BEYOND_DEPTH.

    distance_mm: sensor to surface, None when no echo came back.
    depth_mm: bin floor to the full line (content height when full).
    offset_mm: sensor face to the full line (mounting height above it).
    dead_zone_mm: closest distance the sensor can measure.
    """
    if distance_mm is None:
        return NO_ECHO
    if distance_mm < dead_zone_mm:
        return TOO_CLOSE
    empty_mm = distance_mm - offset_mm
    if empty_mm > depth_mm + _DEPTH_SLACK_MM:
        return BEYOND_DEPTH
    level_mm = depth_mm - empty_mm
    level_mm = max(level_mm, 0)
    level_mm = min(level_mm, depth_mm)
    return (level_mm * 1000 + depth_mm // 2) // depth_mm
