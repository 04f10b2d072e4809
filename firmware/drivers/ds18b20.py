"""DS18B20 temperature over 1-Wire (MicroPython's onewire and ds18x20 modules).

The chip is set to 10 bits (0.25 C steps, plenty for fire risk): a conversion takes
188 ms instead of 12 bits' 750. start() begins one and returns, so the wake samples
its other sensors meanwhile; read_dc() waits out what is left of the conversion time
and reads. 85.0 C is the chip's power-on value, what it returns when a conversion did
not run, so an 85.0 is measured once more before it is believed (85 C is also a real
fire-risk temperature). A bus error gives None.

    t = Thermometer(ds18x20.DS18X20(onewire.OneWire(Pin(13))))
    t.start()                  # conversion running
    ...                        # other sensors
    temp_dc = t.read_dc()      # tenths of a degree C, or None
"""

import time

from machine import lightsleep

from firmware.core.compat import const

# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from ds18x20 import DS18X20

# Configuration register (scratchpad byte 4) for 10-bit conversions, and their time.
_CONFIG_10_BIT = const(0x3F)
_CONVERT_MS = const(188)
_POWER_ON_C = 85.0


class Thermometer:
    """The first DS18B20 found on the bus."""

    def __init__(self, sensor: "DS18X20") -> None:
        self.sensor = sensor
        self.rom = None  # type: bytearray | None
        self._converting = False
        self._started = time.ticks_ms()

    def _find(self) -> bool:
        if self.rom is None:
            roms = self.sensor.scan()
            if not roms:
                return False
            self.rom = roms[0]
            scratch = self.sensor.read_scratch(self.rom)
            if scratch[4] != _CONFIG_10_BIT:  # alarm bytes kept, resolution set
                self.sensor.write_scratch(self.rom, bytes([scratch[2], scratch[3],
                                                           _CONFIG_10_BIT]))
        return True

    def start(self) -> None:
        """Begin a conversion (the first call finds the chip and sets its resolution)."""
        self._converting = False
        try:
            if self._find():
                self.sensor.convert_temp()
                self._started = time.ticks_ms()
                self._converting = True
        except Exception:  # OneWireError, OSError, ds18x20's CRC error
            self.rom = None  # rescan next time

    def _finish(self) -> float:
        left = _CONVERT_MS - time.ticks_diff(time.ticks_ms(), self._started)
        if left > 0:
            lightsleep(left)  # the CPU stops; the chip goes on converting
        self._converting = False
        return float(self.sensor.read_temp(self.rom))

    def read_dc(self) -> int | None:
        """Temperature in tenths of a degree C, or None if the sensor cannot be read."""
        if not self._converting:
            self.start()
            if not self._converting:
                return None
        try:
            celsius = self._finish()
            if celsius == _POWER_ON_C:
                self.sensor.convert_temp()
                self._started = time.ticks_ms()
                celsius = self._finish()
        except Exception:  # OneWireError, OSError, ds18x20's CRC error
            self.rom = None  # rescan next time
            return None
        # The two lowest bits are undefined at 10 bits: whole quarter degrees only.
        hundredths = (int(celsius * 4 + 1000) - 1000) * 25  # floor, also below zero
        if hundredths < 0:
            return -((5 - hundredths) // 10)
        return (hundredths + 5) // 10
