"""A simulated HX711 at pin level, for testing firmware/drivers/hx711.py under CPython.

Its two pins behave as the chip's do: DOUT goes low when a conversion is ready; after
DOUT was seen low, each rising SCK edge shifts out the next bit of the 24-bit
two's-complement value, MSB first, and 1-3 further pulses set the next gain. SCK held
high for more than 60 us (on the SimClock the driver sleeps on) powers the chip down
until SCK goes low again. `counts` says what the load cell reads, `ready_after` how many
DOUT polls a conversion takes, and `never_ready` simulates a dead chip.
"""

from collections.abc import Callable


class _Pin:
    def __init__(self, read: Callable[[], int], write: Callable[[int], None]) -> None:
        self._read = read
        self._write = write

    def value(self, v: int | None = None) -> int:
        if v is not None:
            self._write(int(v))
        return self._read()


class SimHX711:
    """The chip; give its .dout and .sck to the driver."""

    def __init__(self, counts: Callable[[], int], clock: "SimClock",
                 ready_after: int = 2, sps: int | None = None) -> None:
        self.counts = counts
        self.clock = clock
        clock.listeners.append(self._time_passes)
        self.ready_after = ready_after
        # With sps (10 or 80, as the RATE pin sets), readiness follows simulated time
        # instead of a count of polls: the first conversion after power-up is out after
        # the settling time (400 ms at 10 SPS, 50 ms at 80), each next one a period later.
        self.sps = sps
        self._ready_at = clock.us + self._settle_us()
        self.never_ready = False
        self.sck_level = 0
        self.powered = True
        self.gain_pulses: list[int] = []  # per completed read
        self._polls = 0
        self._ready_seen = False
        self._shifting = False
        self._word = 0
        self._bits = 0
        self._extra = 0
        self.dout = _Pin(self._dout, lambda v: None)
        self.sck = _Pin(lambda: self.sck_level, self._clock)

    def _settle_us(self) -> int:
        return 400_000 if self.sps == 10 else 50_000

    def _dout(self) -> int:
        if not self.powered or self.never_ready:
            return 1
        if self._shifting:
            if self._extra == 0:
                return (self._word >> (24 - self._bits)) & 1
            # The gain pulses are done: this read is over, the next conversion begins.
            self.gain_pulses.append(self._extra)
            self._shifting = False
            self._ready_seen = False
            self._polls = 0
            if self.sps:
                self._ready_at = self.clock.us + 1_000_000 // self.sps
        if self.sps:
            self._ready_seen = self.clock.us >= self._ready_at
            return 0 if self._ready_seen else 1
        self._polls += 1
        if self._polls > self.ready_after:
            self._ready_seen = True
            return 0
        return 1

    def _clock(self, level: int) -> None:
        rising = level == 1 and self.sck_level == 0
        falling = level == 0 and self.sck_level == 1
        self.sck_level = level
        if falling and not self.powered:
            self.powered = True
            self._polls = 0
            self._ready_at = self.clock.us + self._settle_us()
            return
        if not rising:
            return
        if not self._shifting:
            if not self._ready_seen:
                return  # no conversion ready: a pulse shifts nothing
            self._shifting = True
            self._word = self.counts() & 0xFFFFFF
            self._bits = 0
            self._extra = 0
        if self._bits < 24:
            self._bits += 1
        else:
            self._extra += 1

    def _time_passes(self, us: int) -> None:
        if self.sck_level == 1 and us > 60:
            if self._shifting and self._extra:
                self.gain_pulses.append(self._extra)
            self._shifting = False
            self._ready_seen = False
            self.powered = False


class SimClock:
    """MicroPython's time.ticks_ms/ticks_diff/sleep_ms/sleep_us, and machine.lightsleep,
    on simulated time."""

    def __init__(self) -> None:
        self.us = 0
        self.asleep_us = 0  # of which in machine.lightsleep (lightsleep_ms)
        self.listeners: list[Callable[[int], None]] = []

    def ticks_ms(self) -> int:
        return self.us // 1000

    @staticmethod
    def ticks_diff(a: int, b: int) -> int:
        return a - b

    def sleep_ms(self, ms: int) -> None:
        self.sleep_us(ms * 1000)

    def lightsleep_ms(self, ms: int) -> None:
        """machine.lightsleep(ms): the CPU stops, the chips go on."""
        self.asleep_us += ms * 1000
        self.sleep_us(ms * 1000)

    def sleep_us(self, us: int) -> None:
        self.us += us
        for listener in self.listeners:
            listener(us)
