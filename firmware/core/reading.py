"""One reading: raw sensor values in, integer-unit fields and fault flags out.

    >>> from firmware.core import reading
    >>> r = reading.make_reading(cfg, seq=7, ts_ms=1764800000000, clock_synced=True,
    ...     distance_mm=420, counts=221500, battery_mv=3600, temp_dc=215)
"""

from firmware.core import fill, scale
from firmware.core.compat import const

# Fault and state flags (bit field `flags` in the v1 payload; docs/protocol.md).
FLAG_CLOCK_UNSYNCED = const(0x0001)
FLAG_NO_ECHO = const(0x0002)
FLAG_TOO_CLOSE = const(0x0004)
FLAG_BEYOND_DEPTH = const(0x0008)
FLAG_LOAD_SATURATED = const(0x0010)
FLAG_BELOW_TARE = const(0x0020)
FLAG_OUT_OF_RANGE = const(0x0040)  # a raw value outside what the v1 payload can carry
# 0x0080 stuck, 0x0100 covered, 0x0200 noisy: firmware/core/sampling.py
FLAG_LID_OPEN = const(0x0400)  # the lid switch read open when the sample was taken
FLAG_TILTED = const(0x0800)  # the tilt switch read tilted: the bin was knocked over or moved

# Wire limits (firmware/core/payload.py FIELDS) in device units.
_MAX_DISTANCE_MM = const(20000)
_MAX_WEIGHT_G = const(2000000)
_MIN_TEMP_DC = const(-400)
_MAX_TEMP_DC = const(1250)
_MAX_BATTERY_MV = const(10000)

# Quality codes, the vocabulary of LwM2M object 3435.
Q_UNCHECKED = const(0)
Q_REJECTED = const(1)
Q_REJECTED_PROBABLY = const(2)
Q_SUSPICIOUS = const(3)
Q_ACCEPTED = const(4)


class Reading:
    """Plain record of one reading; decimals are scaled integers (dpct = 0.1 %, dc = 0.1 C)."""

    def __init__(self, bin_id: str, seq: int, ts_ms: int, fill_dpct: int | None,
                 distance_mm: int | None, weight_g: int | None, battery_mv: int | None,
                 temp_dc: int | None, quality: int, flags: int, fw: str,
                 quality_level: int | None = None, spread_mm: int | None = None) -> None:
        self.bin_id = bin_id
        self.seq = seq
        self.ts_ms = ts_ms
        self.fill_dpct = fill_dpct
        self.distance_mm = distance_mm
        self.weight_g = weight_g
        self.battery_mv = battery_mv
        self.temp_dc = temp_dc
        self.quality = quality
        self.flags = flags
        self.fw = fw
        self.quality_level = quality_level  # 0..100, LwM2M 3435
        self.spread_mm = spread_mm  # max - min of the distance samples kept


class BinConfig:
    """Geometry and calibration a reading needs; validated once when loaded."""

    def __init__(self, bin_id: str, depth_mm: int, offset_mm: int, dead_zone_mm: int,
                 tare_counts: int, cal_counts: int, cal_grams: int, fw: str,
                 bottom_mm: int = 0, top_mm: int = 0) -> None:
        if not bin_id or len(bin_id) > 32:
            raise ValueError("bin_id: must be 1..32 characters")
        for ch in bin_id:
            if not (ch.isalpha() or ch.isdigit() or ch in "-_"):
                raise ValueError("bin_id: only letters, digits, '-' and '_' allowed")
        if depth_mm <= 0:
            raise ValueError("depth_mm: must be > 0")
        if cal_counts <= 0:
            raise ValueError("cal_counts: must be > 0")
        if (bottom_mm > 0) != (top_mm > 0) or bottom_mm < 0:
            raise ValueError("bottom_mm, top_mm: give both widths of a tapered bin, or neither")
        self.bin_id = bin_id
        self.depth_mm = depth_mm
        self.offset_mm = offset_mm
        self.dead_zone_mm = dead_zone_mm
        self.tare_counts = tare_counts
        self.cal_counts = cal_counts
        self.cal_grams = cal_grams
        self.fw = fw
        self.bottom_mm = bottom_mm  # tapered bins: inside width at the floor
        self.top_mm = top_mm  # and at the full line


def make_reading(cfg: BinConfig, seq: int, ts_ms: int, clock_synced: bool,
                 distance_mm: int | None, counts: int | None, battery_mv: int | None,
                 temp_dc: int | None) -> Reading:
    """Turn raw sensor values into a Reading, flagging faults instead of inventing numbers."""
    flags = 0
    quality = Q_ACCEPTED
    if not clock_synced:
        flags |= FLAG_CLOCK_UNSYNCED
    f: int | None = fill.fill_dpct(distance_mm, cfg.depth_mm, cfg.offset_mm, cfg.dead_zone_mm,
                                   cfg.bottom_mm, cfg.top_mm)
    dist = distance_mm
    if f == fill.NO_ECHO:
        flags |= FLAG_NO_ECHO
        f = None
        quality = Q_REJECTED
    elif f == fill.TOO_CLOSE:
        # Something sits in the dead zone: a full bin or a covered sensor. Not 0 %.
        flags |= FLAG_TOO_CLOSE
        f = None
        quality = Q_SUSPICIOUS
    elif f == fill.BEYOND_DEPTH:
        flags |= FLAG_BEYOND_DEPTH
        f = None
        quality = Q_REJECTED
    g: int | None = None
    if counts is not None:
        g = scale.grams(counts, cfg.tare_counts, cfg.cal_counts, cfg.cal_grams)
        if g == scale.SATURATED:
            flags |= FLAG_LOAD_SATURATED
            g = None
        elif g == scale.BELOW_TARE:
            flags |= FLAG_BELOW_TARE
            g = None
        elif g > _MAX_WEIGHT_G:
            flags |= FLAG_LOAD_SATURATED
            g = None
        if g is None and quality == Q_ACCEPTED:
            quality = Q_SUSPICIOUS
    # A value the payload cannot carry is reported as missing with a flag, so the
    # reading itself still gets through.
    if dist is not None and (dist < 0 or dist > _MAX_DISTANCE_MM):
        flags |= FLAG_OUT_OF_RANGE
        dist = None
    if temp_dc is not None and (temp_dc < _MIN_TEMP_DC or temp_dc > _MAX_TEMP_DC):
        flags |= FLAG_OUT_OF_RANGE
        temp_dc = None
    if battery_mv is not None and (battery_mv < 0 or battery_mv > _MAX_BATTERY_MV):
        flags |= FLAG_OUT_OF_RANGE
        battery_mv = None
    return Reading(cfg.bin_id, seq, ts_ms, f, dist, g, battery_mv, temp_dc, quality, flags,
                   cfg.fw)
