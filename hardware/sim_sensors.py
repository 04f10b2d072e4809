"""Simulated battery ADC, switch contacts and DS18B20, for the driver tests under CPython."""


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
    """A 1-Wire bus with one DS18B20 reading `temps` in turn (or failing)."""

    def __init__(self, temps: list[float], present: bool = True) -> None:
        self.temps = temps
        self.present = present
        self.fail = False
        self.conversions = 0

    def scan(self) -> list[bytearray]:
        return [bytearray(b"\x28\x01\x02\x03\x04\x05\x06\x07")] if self.present else []

    def convert_temp(self) -> None:
        if self.fail:
            raise OneWireError("no presence pulse")
        self.conversions += 1

    def read_temp(self, rom: bytearray) -> float:
        return self.temps.pop(0) if len(self.temps) > 1 else self.temps[0]
