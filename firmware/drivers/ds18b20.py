"""DS18B20 temperature over 1-Wire (MicroPython's onewire and ds18x20 modules).

A conversion takes up to 750 ms at 12 bits. 85.0 C is the chip's power-on value, what
it returns when a conversion did not run, so an 85.0 is measured once more before it is
believed (85 C is also a real fire-risk temperature). A bus error gives None.

    t = Thermometer(ds18x20.DS18X20(onewire.OneWire(Pin(13))))
    temp_dc = t.read_dc()      # tenths of a degree C, or None
"""

import time

from onewire import OneWireError

from firmware.core.compat import const

# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from ds18x20 import DS18X20

_CONVERT_MS = const(750)
_POWER_ON_C = 85.0


class Thermometer:
    """The first DS18B20 found on the bus."""

    def __init__(self, sensor: "DS18X20") -> None:
        self.sensor = sensor
        self.rom = None  # type: bytearray | None

    def _measure(self) -> float:
        self.sensor.convert_temp()
        time.sleep_ms(_CONVERT_MS)
        return float(self.sensor.read_temp(self.rom))

    def read_dc(self) -> int | None:
        """Temperature in tenths of a degree C, or None if the sensor cannot be read."""
        try:
            if self.rom is None:
                roms = self.sensor.scan()
                if not roms:
                    return None
                self.rom = roms[0]
            celsius = self._measure()
            if celsius == _POWER_ON_C:
                celsius = self._measure()
        except (OneWireError, OSError):
            self.rom = None  # rescan next time
            return None
        return int(celsius * 10 + (0.5 if celsius >= 0 else -0.5))
