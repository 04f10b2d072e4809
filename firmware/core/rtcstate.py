"""What one wake tells the next through deep sleep: RTC memory on the device.

The reporting policy's and the sampler's memory, and the life cycle's own (clock
synced, radio failures), as one small JSON array. RTC memory survives deep sleep but
not a power cut or a reset button; load() of empty or garbled bytes gives fresh state,
which only makes the next wake report at once (heartbeat) and forget the stuck-sensor
count. Nothing here is needed to keep a reading: the queue and sequence live in flash.

    state = LifeState()
    load(rtc.memory(), policy, history, state)
    ...wake...
    rtc.memory(dump(policy, history, state))
"""

import json

from firmware.core.compat import const
from firmware.core.policy import Policy
from firmware.core.sampling import History

_VERSION = const(1)
MAX_BYTES = 2048  # the ESP32 port's RTC user memory


class LifeState:
    """The life cycle's own memory between wakes."""

    def __init__(self) -> None:
        self.synced = False  # the RTC was set from NTP since power-up
        self.ntp_ms = -1  # device time of the last NTP sync
        self.radio_failures = 0  # sending wakes in a row that found no Wi-Fi or broker
        self.radio_skip = 0  # sending wakes left to skip before trying the radio again
        self.wakes = 0
        self.seq_next = -1  # the sequence counter's place within its flash lease
        self.seq_leased_to = -1


def dump(policy: Policy, history: History, life: LifeState) -> bytes:
    """The state as bytes for RTC memory."""
    return json.dumps([
        _VERSION,
        [policy.pending, policy.last_sent_ms, policy.last_sent_fill, policy.prev_fill,
         policy.prev_ts_ms, policy.prev_temp, policy.rate_dpct_per_h],
        [history.last_raw, history.same_count, history.prev_fill, history.prev_weight_g],
        [int(life.synced), life.ntp_ms, life.radio_failures, life.radio_skip, life.wakes,
         life.seq_next, life.seq_leased_to],
    ]).encode()


def load(data: bytes, policy: Policy, history: History, life: LifeState) -> bool:
    """Restore state from RTC memory; False (and nothing changed) if there was none."""
    try:
        version, p, h, s = json.loads(data)
        if version != _VERSION:
            return False
        (pending, last_sent_ms, last_sent_fill, prev_fill, prev_ts_ms, prev_temp,
         rate) = p
        last_raw, same_count, h_prev_fill, h_prev_weight = h
        synced, ntp_ms, failures, skip, wakes, seq_next, seq_leased_to = s
    except (ValueError, TypeError, UnicodeError):
        return False
    policy.pending = pending
    policy.last_sent_ms = last_sent_ms
    policy.last_sent_fill = last_sent_fill
    policy.prev_fill = prev_fill
    policy.prev_ts_ms = prev_ts_ms
    policy.prev_temp = prev_temp
    policy.rate_dpct_per_h = rate
    history.last_raw = last_raw
    history.same_count = same_count
    history.prev_fill = h_prev_fill
    history.prev_weight_g = h_prev_weight
    life.synced = bool(synced)
    life.ntp_ms = ntp_ms
    life.radio_failures = failures
    life.radio_skip = skip
    life.wakes = wakes
    life.seq_next = seq_next
    life.seq_leased_to = seq_leased_to
    return True
