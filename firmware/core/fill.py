"""Fill model: distance from a top-mounted sensor to the share of the bin's volume filled.

Straight-walled bins (rectangular or vertical cylinder) fill linearly with height. A
tapered bin (narrower at the bottom, both sides scaling together) holds a frustum:
the volume below height h grows with the cube of the width at h, so half the height
is well under half the volume. Results are tenths of a percent of volume, in integer
arithmetic, so every platform (single-precision ESP32 builds too) computes the same
number; litres are fill x the bin's capacity.

    >>> from firmware.core import fill
    >>> fill.fill_dpct(400, depth_mm=1000, offset_mm=0)
    600
"""

from firmware.core.compat import const

# Outcomes of a distance check; fill_dpct returns one of these negatives instead
# of inventing a number (a covered or blinded sensor is not an empty bin).
NO_ECHO = const(-1)
TOO_CLOSE = const(-2)
BEYOND_DEPTH = const(-3)

# A reading this far past the floor is a sensor fault, not an empty bin.
_DEPTH_SLACK_MM = const(50)


def volume_dpct(level_mm: int, depth_mm: int, bottom_mm: int = 0, top_mm: int = 0) -> int:
    """Share of volume (0.1 %) below level_mm; bottom_mm/top_mm are widths of a tapered
    bin (0, 0 for straight walls)."""
    if top_mm <= 0 or bottom_mm <= 0 or top_mm == bottom_mm:
        return (level_mm * 1000 + depth_mm // 2) // depth_mm
    width = bottom_mm + (top_mm - bottom_mm) * level_mm // depth_mm
    full = top_mm ** 3 - bottom_mm ** 3
    return ((width ** 3 - bottom_mm ** 3) * 1000 + full // 2) // full


def fill_dpct(distance_mm: int | None, depth_mm: int, offset_mm: int,
              dead_zone_mm: int = 0, bottom_mm: int = 0, top_mm: int = 0) -> int:
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
    return volume_dpct(level_mm, depth_mm, bottom_mm, top_mm)
