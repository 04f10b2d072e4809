"""Ultrasonic distance sensor (JSN-SR04T waterproof, or HC-SR04): trigger, time the echo.

A trigger pulse of at least 10 us starts a ping; the echo pin stays high for the
sound's round trip. Sound travels 331.3 m/s at 0 C plus 0.606 m/s per degree, so the
distance comes from the echo time and the air temperature (about 1.8 % per 10 C if
ignored). No echo within the time the maximum range needs gives None, never a hang.

    us = Ultrasonic(Pin(25, Pin.OUT), Pin(26, Pin.IN))
    distances = us.read_samples(5, temp_dc=215)     # mm, or None for a missed echo
"""

import time

from machine import Pin, lightsleep, time_pulse_us

from firmware.core.compat import const

# The module needs this long between pings, or the last ping's echo is read again.
_SETTLE_MS = const(60)
_TRIGGER_US = const(12)


def speed_mm_per_s(temp_dc: int) -> int:
    """Speed of sound in air in mm/s at temp_dc tenths of a degree C."""
    return 331_300 + 606 * temp_dc // 10


def distance_mm(echo_us: int, temp_dc: int) -> int:
    """One-way distance for a round-trip echo time, rounded to the nearest mm."""
    return (echo_us * speed_mm_per_s(temp_dc) + 1_000_000) // 2_000_000


class Ultrasonic:
    """One trigger/echo sensor."""

    def __init__(self, trigger: Pin, echo: Pin, max_mm: int = 6000) -> None:
        if max_mm <= 0:
            raise ValueError("max_mm: must be > 0")
        self.trigger = trigger
        self.echo = echo
        # Round trip at the slowest plausible speed (-40 C), plus 10 %.
        self.timeout_us = max_mm * 2_000_000 // speed_mm_per_s(-400) * 11 // 10
        self.trigger.value(0)

    def echo_us(self) -> int | None:
        """One ping's round trip in microseconds, or None if no echo came back in time."""
        self.trigger.value(0)
        time.sleep_us(5)
        self.trigger.value(1)
        time.sleep_us(_TRIGGER_US)
        self.trigger.value(0)
        echo = time_pulse_us(self.echo, 1, self.timeout_us)
        return None if echo < 0 else echo

    def ping(self, temp_dc: int = 200) -> int | None:
        """One measurement in mm, or None if no echo came back in time."""
        echo = self.echo_us()
        return None if echo is None else distance_mm(echo, temp_dc)

    def echoes_us(self, n: int) -> list[int | None]:
        """n round trips, spaced so that no ping hears the one before; distance_mm()
        turns them into millimetres once the air temperature is known."""
        out = []
        for i in range(n):
            if i:
                lightsleep(_SETTLE_MS)  # the CPU stops; the sensors stay powered
            out.append(self.echo_us())
        return out

    def read_samples(self, n: int, temp_dc: int = 200) -> list[int | None]:
        """n pings in mm at temp_dc."""
        return [None if e is None else distance_mm(e, temp_dc) for e in self.echoes_us(n)]
