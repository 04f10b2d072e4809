"""Simulated battery ADC, switch contacts and DS18B20, for the driver tests under CPython."""

from hardware.sim_hx711 import SimClock


class SimADC:
    """An ADC pin reading `uv` microvolts (plus a fixed ripple pattern)."""

    def __init__(self, uv: int, ripple_uv: int = 0) -> None:
        self.uv = uv
        self.ripple_uv = ripple_uv
        self._n = 0

    def read_uv(self) -> int:
        self._n += 1
        return self.uv + (self.ripple_uv if self._n % 2 else -self.ripple_uv)


class SimContact:
    """A pulled-up input with a contact to ground; `bounces` glitches the next reads."""

    def __init__(self, closed: bool) -> None:
        self.closed = closed
        self.bounces: list[int] = []

    def value(self, v: int | None = None) -> int:
        if self.bounces:
            return self.bounces.pop(0)
        return 0 if self.closed else 1


class OneWireError(Exception):
    """As onewire.OneWireError."""


class SimDS18X20:
    """A 1-Wire bus with one DS18B20 converting `temps` in turn (or failing).

    As the chip: the configuration register (scratchpad byte 4) sets the resolution,
    12 bits at power-on; a conversion takes 93.75 ms at 9 bits and twice that per bit
    more, and gives whole steps of that resolution (rounded down). With a `clock`, the
    scratchpad holds the last finished conversion, 85.0 C until the first: read too
    early, that is what comes back. Without one, conversions finish at once.
    """

    def __init__(self, temps: list[float], present: bool = True,
                 clock: "SimClock | None" = None) -> None:
        self.temps = temps
        self.present = present
        self.fail = False
        self.conversions = 0
        self.clock = clock
        self.config = 0x7F
        self.alarms = bytearray(b"\x4b\x46")  # TH, TL as shipped
        self.scratch_writes = 0
        self._result = 85.0
        self._pending: float | None = None
        self._done_at = 0

    @property
    def bits(self) -> int:
        return 9 + ((self.config >> 5) & 3)

    def conversion_us(self) -> int:
        return 93_750 << (self.bits - 9)

    def scan(self) -> list[bytearray]:
        if self.fail:
            raise OneWireError("no presence pulse")
        return [bytearray(b"\x28\x01\x02\x03\x04\x05\x06\x07")] if self.present else []

    def read_scratch(self, rom: bytearray) -> bytearray:
        if self.fail:
            raise OneWireError("no presence pulse")
        return bytearray(b"\x50\x05") + self.alarms + bytes([self.config]) + b"\xff\x0c\x10\x00"

    def write_scratch(self, rom: bytearray, buf: bytes) -> None:
        self.alarms = bytearray(buf[:2])
        self.config = buf[2]
        self.scratch_writes += 1

    def convert_temp(self) -> None:
        if self.fail:
            raise OneWireError("no presence pulse")
        self.conversions += 1
        celsius = self.temps.pop(0) if len(self.temps) > 1 else self.temps[0]
        step = 1 / 2 ** (self.bits - 8)  # 0.5 C at 9 bits ... 0.0625 at 12
        self._pending = (celsius // step) * step
        self._done_at = self.clock.us + self.conversion_us() if self.clock else 0

    def _settle(self) -> None:
        if self._pending is not None and (self.clock is None or self.clock.us >= self._done_at):
            self._result, self._pending = self._pending, None

    def read_temp(self, rom: bytearray) -> float:
        if self.fail:
            raise OneWireError("no presence pulse")
        self._settle()
        return self._result
