"""Reporting policy: when to wake the radio, and how long to sleep until the next sample.

Routine readings are batched into few radio wake-ups; some readings go at once:

- fire: temperature at or above fire_dc, or rising by fire_rise_dc or more since the
  previous sample
- full: fill crossed full_dpct upwards (accepted readings only: a covered, stuck or
  noisy sensor does not wake anyone)
- lid: the lid switch woke the board
- change: fill moved by change_dpct or more since the last reading sent
- heartbeat: nothing sent for heartbeat_s
- batch: batch_size routine readings are waiting

The next sample comes sooner as the bin nears full or fills fast, and later when it
is nearly empty. All numbers come from config (PolicyConfig), in integer units.

    p = Policy(PolicyConfig())
    send, why = p.on_reading(r, lid=False)
    sleep_s = p.next_interval_s()
"""

SEND_NOT = ""


class PolicyConfig:
    """Intervals and thresholds; defaults suit a 15-minute bin on two AA cells."""

    def __init__(self, interval_s: int = 900, min_interval_s: int = 300,
                 max_interval_s: int = 3600, batch_size: int = 8, heartbeat_s: int = 4 * 3600,
                 change_dpct: int = 150, full_dpct: int = 850, near_full_dpct: int = 700,
                 empty_dpct: int = 150, fast_fill_dpct_per_h: int = 100, fire_dc: int = 700,
                 fire_rise_dc: int = 100) -> None:
        if not 0 < min_interval_s <= interval_s <= max_interval_s:
            raise ValueError("interval_s: need 0 < min_interval_s <= interval_s <= max_interval_s")
        if batch_size < 1:
            raise ValueError("batch_size: must be >= 1")
        if heartbeat_s < interval_s:
            raise ValueError("heartbeat_s: must be >= interval_s")
        self.interval_s = interval_s
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self.batch_size = batch_size
        self.heartbeat_s = heartbeat_s
        self.change_dpct = change_dpct
        self.full_dpct = full_dpct
        self.near_full_dpct = near_full_dpct
        self.empty_dpct = empty_dpct
        self.fast_fill_dpct_per_h = fast_fill_dpct_per_h
        self.fire_dc = fire_dc
        self.fire_rise_dc = fire_rise_dc


class Policy:
    """Decision state carried between wakes (RTC memory on the device)."""

    def __init__(self, cfg: PolicyConfig) -> None:
        self.cfg = cfg
        self.pending = 0
        self.last_sent_ms = -1
        self.last_sent_fill = -1
        self.prev_fill = -1
        self.prev_ts_ms = -1
        self.prev_temp = None  # type: int | None
        self.rate_dpct_per_h = 0

    def on_reading(self, r: "Reading", lid: bool = False) -> tuple[bool, str]:
        """Account for a new queued reading; return (send now?, why)."""
        c = self.cfg
        self.pending += 1
        why = SEND_NOT
        # Only an accepted reading may claim full or a big change; suspicious ones still
        # go out with the next batch, flagged.
        fill = r.fill_dpct if r.quality == 4 else None
        if r.temp_dc is not None and (
                r.temp_dc >= c.fire_dc
                or (self.prev_temp is not None and r.temp_dc - self.prev_temp >= c.fire_rise_dc)):
            why = "fire"
        elif fill is not None and self.prev_fill < c.full_dpct <= fill:
            # prev_fill is -1 while no usable fill was seen: full is news then too.
            why = "full"
        elif lid:
            why = "lid"
        elif fill is not None and self.last_sent_fill >= 0 and \
                abs(fill - self.last_sent_fill) >= c.change_dpct:
            why = "change"
        elif self.last_sent_ms < 0 or r.ts_ms < self.last_sent_ms or \
                r.ts_ms - self.last_sent_ms >= c.heartbeat_s * 1000:
            # A clock set back (NTP correcting a fast RTC) would otherwise hold the
            # heartbeat until it caught up again: send, and count from this reading.
            why = "heartbeat"
        elif self.pending >= c.batch_size:
            why = "batch"
        if fill is not None:
            if self.prev_fill >= 0 and r.ts_ms > self.prev_ts_ms >= 0:
                hours_x1000 = (r.ts_ms - self.prev_ts_ms) // 3600
                if hours_x1000 > 0:
                    self.rate_dpct_per_h = (fill - self.prev_fill) * 1000 // hours_x1000
            self.prev_fill = fill
            self.prev_ts_ms = r.ts_ms
        if r.temp_dc is not None:
            self.prev_temp = r.temp_dc
        return why != SEND_NOT, why

    def sent(self, r: "Reading") -> None:
        """Everything queued up to r reached the broker."""
        self.pending = 0
        self.last_sent_ms = r.ts_ms
        if r.fill_dpct is not None:
            self.last_sent_fill = r.fill_dpct

    def next_interval_s(self) -> int:
        """Seconds to sleep before the next sample."""
        c = self.cfg
        if self.prev_fill >= c.near_full_dpct or self.rate_dpct_per_h >= c.fast_fill_dpct_per_h:
            return c.min_interval_s
        if 0 <= self.prev_fill < c.empty_dpct:
            return c.max_interval_s
        return c.interval_s


# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from firmware.core.reading import Reading
