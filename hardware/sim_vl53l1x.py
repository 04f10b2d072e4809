"""A simulated VL53L1X at register level, for testing firmware/drivers/vl53l1x.py under CPython.

It answers `readfrom_mem` / `writeto_mem` with 16-bit register addresses the way the
chip does for what the driver uses: model id, boot status, the default configuration
block, distance-mode and timing-budget registers, start/stop, data ready (with the
interrupt polarity of GPIO_HV_MUX__CTRL), range status, distance and interrupt clear.
A sample becomes ready one timing budget after ranging starts or the previous
interrupt was cleared, on the SimClock. Targets beyond the mode's reach give a
signal-failure status; a chip that was never configured ranges nothing.
"""

from hardware.sim_hx711 import SimClock

_RAW_VALID = 9
_RAW_SIGMA_FAIL = 6
_RAW_SIGNAL_FAIL = 4
# Reach in the dark, per mode (phasecal timeout register value -> mm).
_REACH_MM = {0x14: 1300, 0x0A: 4000}
# Timing budget per (mode, timeout A) as the ULD tables define them.
_BUDGET_MS = {
    (0x14, 0x001D): 15, (0x14, 0x0051): 20, (0x14, 0x00D6): 33, (0x14, 0x01AE): 50,
    (0x14, 0x02E1): 100, (0x14, 0x03E1): 200, (0x14, 0x0591): 500,
    (0x0A, 0x001E): 20, (0x0A, 0x0060): 33, (0x0A, 0x00AD): 50, (0x0A, 0x01CC): 100,
    (0x0A, 0x02D9): 200, (0x0A, 0x048F): 500,
}


class SimVL53L1X:
    """The chip on a bus; pass the instance as the driver's i2c."""

    def __init__(self, clock: SimClock, distance_mm: int | None, address: int = 0x29,
                 model_id: int = 0xEACC, boot_ms: int = 2) -> None:
        self.clock = clock
        self.distance_mm = distance_mm
        self.address = address
        self.noisy = False  # True: every sample fails the sigma check
        self.dead = False  # True: stops raising data ready
        self.mem = bytearray(0x200)
        self.mem[0x010F] = model_id >> 8
        self.mem[0x0110] = model_id & 0xFF
        self._boot_at_us = boot_ms * 1000
        self.ranging = False
        self.configured = False
        self.measurements = 0  # samples the chip started
        self._ready_at_us: int | None = None

    def _check(self, address: int) -> None:
        if address != self.address:
            raise OSError(19, "ENODEV")  # machine.I2C raises OSError on a NACK

    def budget_ms(self) -> int | None:
        """The timing budget the registers select, or None for a combination not in the tables."""
        mode = self.mem[0x004B]
        timeout_a = (self.mem[0x005E] << 8) | self.mem[0x005F]
        return _BUDGET_MS.get((mode, timeout_a))

    def readfrom_mem(self, address: int, reg: int, n: int, addrsize: int = 8) -> bytes:
        self._check(address)
        assert addrsize == 16, "the VL53L1X has 16-bit register addresses"
        if reg == 0x00E5:
            return bytes((1 if self.clock.us >= self._boot_at_us else 0,))
        if reg == 0x0031:
            ready = (self.ranging and self._ready_at_us is not None
                     and self.clock.us >= self._ready_at_us and not self.dead)
            active_high = not self.mem[0x0030] & 0x10
            return bytes((int(ready) if active_high else int(not ready),))
        if reg in (0x0089, 0x0096):
            self._latch()
        return bytes(self.mem[reg:reg + n])

    def _latch(self) -> None:
        """Fill the result registers for the sample that is ready."""
        reach = _REACH_MM.get(self.mem[0x004B], 0) if self.configured else 0
        distance = self.distance_mm
        if distance is None or distance > reach:
            raw, mm = _RAW_SIGNAL_FAIL, 0
        elif self.noisy:
            raw, mm = _RAW_SIGMA_FAIL, distance + 137
        else:
            raw, mm = _RAW_VALID, distance
        self.mem[0x0089] = raw
        self.mem[0x0096] = mm >> 8
        self.mem[0x0097] = mm & 0xFF

    def writeto_mem(self, address: int, reg: int, data: bytes, addrsize: int = 8) -> None:
        self._check(address)
        assert addrsize == 16, "the VL53L1X has 16-bit register addresses"
        if self.clock.us < self._boot_at_us:
            raise OSError(5, "EIO")  # not booted yet
        self.mem[reg:reg + len(data)] = data
        if reg == 0x002D and len(data) == 91:
            self.configured = True
        if reg <= 0x0087 < reg + len(data):
            self.ranging = self.mem[0x0087] == 0x40
            self._schedule()
        if reg == 0x0086 and data[:1] == b"\x01":
            self._schedule()

    def _schedule(self) -> None:
        if self.ranging:
            budget = self.budget_ms() or 100
            self._ready_at_us = self.clock.us + budget * 1000
            self.measurements += 1
        else:
            self._ready_at_us = None
