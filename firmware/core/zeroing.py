"""Re-zero the scale after an emptying: the one time the device may move its tare.

A load cell's zero drifts (temperature, creep, a bin set back a little differently
after the truck lifted it). The device never tares at boot, since a bin can wake with
waste in it. It re-zeros only on a wake whose reading saw the bin emptied (the caller
checks firmware/core/sampling.py emptied(): a trustworthy fill of at most 3 %, at
least 20 points below the one before, so not a bin that was empty all along), and then
only if:

- the load-cell samples of this wake agree within ZERO_SPREAD_G (nobody leaning on it);
- the weight the old tare gives is within ZERO_MAX_G of zero: more than that is not
  drift but something left in the bin, or a fault, and the tare stays.

The new tare is the median of this wake's samples; the reading then weighs 0 g and
carries FLAG_REZEROED, so the cloud knows the weight baseline moved. The caller
persists the tare (firmware/app.py writes it into /config.json). Imported only when
a wake sees an emptying, so other wakes spend no heap on it.

    if emptied(prev_fill, r):
        tare = rezero(cfg, counts, r)   # the new tare_counts, or None
"""

from firmware.core import reading, scale
from firmware.core.compat import const

FLAG_REZEROED = const(0x1000)
ZERO_SPREAD_G = const(200)
ZERO_MAX_G = const(5000)
_WEIGHT_FLAGS = reading.FLAG_BELOW_TARE | reading.FLAG_LOAD_SATURATED


def _grams(counts: int, cfg: reading.BinConfig) -> int:
    """Signed grams from tare, without the below-tare and saturation cut-offs."""
    return (counts - cfg.tare_counts) * cfg.cal_grams // cfg.cal_counts


def rezero(cfg: reading.BinConfig, counts: list[int | None], r: reading.Reading
           ) -> int | None:
    """On an emptying, move cfg's tare to this wake's counts and zero r's weight;
    return the new tare, or None when the conditions above do not all hold."""
    valid = sorted(c for c in counts if c is not None)
    if not valid or valid[0] <= scale.COUNTS_MIN or valid[-1] >= scale.COUNTS_MAX:
        return None
    if abs(_grams(valid[-1], cfg) - _grams(valid[0], cfg)) > ZERO_SPREAD_G:
        return None
    tare = valid[(len(valid) - 1) // 2]
    if abs(_grams(tare, cfg)) > ZERO_MAX_G:
        return None
    cfg.tare_counts = tare
    r.weight_g = 0
    if r.flags & _WEIGHT_FLAGS and r.quality == reading.Q_SUSPICIOUS:
        r.quality = reading.Q_ACCEPTED  # the weight was its only doubt
    r.flags = (r.flags & ~_WEIGHT_FLAGS) | FLAG_REZEROED
    return tare
