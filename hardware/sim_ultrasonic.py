"""A simulated JSN-SR04T for testing firmware/drivers/ultrasonic.py under CPython.

It watches its trigger pin on the simulated clock and answers `time_pulse_us` the way
machine.time_pulse_us would: the echo width for a target at `distance_mm` in air at
`air_temp_dc`, or -1 (timeout) when there is no target within range or the trigger
pulse was too short.
"""

from hardware.sim_hx711 import SimClock


class SimUltrasonic:
    """The module: give .trigger and .echo to the driver, and .time_pulse_us to machine."""

    def __init__(self, clock: SimClock, distance_mm: int | None, air_temp_dc: int = 200) -> None:
        self.clock = clock
        self.distance_mm = distance_mm
        self.air_temp_dc = air_temp_dc
        self.pings: list[int] = []  # simulated time (us) of each accepted ping
        self.short_triggers = 0
        self._trigger_level = 0
        self._rose_at = 0
        self._armed = False
        sim = self

        class _Trigger:
            def value(self, v: int | None = None) -> int:
                if v is not None:
                    sim._set_trigger(int(v))
                return sim._trigger_level

        class _Echo:
            def value(self, v: int | None = None) -> int:
                return 0

        self.trigger = _Trigger()
        self.echo = _Echo()

    def _set_trigger(self, level: int) -> None:
        if level == 1 and self._trigger_level == 0:
            self._rose_at = self.clock.us
        if level == 0 and self._trigger_level == 1:
            if self.clock.us - self._rose_at >= 10:
                self._armed = True
                self.pings.append(self.clock.us)
            else:
                self.short_triggers += 1
        self._trigger_level = level

    def time_pulse_us(self, pin: object, level: int, timeout_us: int) -> int:
        """Width of the echo pulse, or -1 on timeout (as machine.time_pulse_us)."""
        if not self._armed or self.distance_mm is None:
            self.clock.sleep_us(timeout_us)
            return -1
        self._armed = False
        speed = 331_300 + 606 * self.air_temp_dc / 10  # mm/s, exact
        width = round(2 * self.distance_mm / speed * 1_000_000)
        if width > timeout_us:
            self.clock.sleep_us(timeout_us)
            return -1
        self.clock.sleep_us(width)
        return width
