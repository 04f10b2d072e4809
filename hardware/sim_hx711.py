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
                 ready_after: int = 2) -> None:
        self.counts = counts
        clock.listeners.append(self._time_passes)
        self.ready_after = ready_after
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
    """MicroPython's time.ticks_ms/ticks_diff/sleep_ms/sleep_us, on simulated time."""

    def __init__(self) -> None:
        self.us = 0
        self.listeners: list[Callable[[int], None]] = []

    def ticks_ms(self) -> int:
        return self.us // 1000

    @staticmethod
    def ticks_diff(a: int, b: int) -> int:
        return a - b

    def sleep_ms(self, ms: int) -> None:
        self.sleep_us(ms * 1000)

    def sleep_us(self, us: int) -> None:
        self.us += us
        for listener in self.listeners:
            listener(us)
