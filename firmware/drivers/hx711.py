"""HX711 load-cell amplifier, bit-banged on two GPIOs.

DOUT low means a conversion is ready. 24 clock pulses shift the reading out, MSB
first, as 24-bit two's complement; 1, 2 or 3 further pulses choose the gain and channel
of the next conversion (128 A, 32 B, 64 A). SCK held high for more than 60 us powers
the chip down, so the pulses run with interrupts off, and power_down() between wakes
uses exactly that.

    hx = HX711(Pin(32, Pin.IN), Pin(33, Pin.OUT))
    counts = hx.read_samples(10)     # list of int, or None where the chip never got ready
    hx.power_down()
"""

import time

from machine import Pin, disable_irq, enable_irq

_GAIN_PULSES = {128: 1, 32: 2, 64: 3}


class HX711:
    """One HX711 on a data and a clock pin."""

    def __init__(self, dout: Pin, sck: Pin, gain: int = 128, timeout_ms: int = 500) -> None:
        if gain not in _GAIN_PULSES:
            raise ValueError("gain: must be 128, 64 or 32")
        self.dout = dout
        self.sck = sck
        self.timeout_ms = timeout_ms
        self._pulses = _GAIN_PULSES[gain]
        self.sck.value(0)

    def ready(self) -> bool:
        """True when a conversion is waiting."""
        return self.dout.value() == 0

    def read(self) -> int | None:
        """One conversion in counts, or None if the chip was not ready within timeout_ms."""
        start = time.ticks_ms()
        while self.dout.value():
            if time.ticks_diff(time.ticks_ms(), start) > self.timeout_ms:
                return None
            time.sleep_ms(1)
        raw = 0
        state = disable_irq()
        try:
            for _ in range(24):
                self.sck.value(1)
                self.sck.value(0)
                raw = (raw << 1) | self.dout.value()
            for _ in range(self._pulses):
                self.sck.value(1)
                self.sck.value(0)
        finally:
            enable_irq(state)
        if raw & 0x800000:
            raw -= 0x1000000
        return raw

    def read_samples(self, n: int) -> list[int | None]:
        """n conversions (10 SPS or 80 SPS, as the RATE pin sets)."""
        return [self.read() for _ in range(n)]

    def power_down(self) -> None:
        """Hold SCK high past 60 us: the chip sleeps (about 1 uA) until power_up()."""
        self.sck.value(0)
        self.sck.value(1)
        time.sleep_us(80)

    def power_up(self) -> None:
        """Wake the chip; the first conversion comes after its settling time."""
        self.sck.value(0)
