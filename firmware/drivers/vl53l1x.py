"""VL53L1X time-of-flight distance sensor over I2C: distance mode, timing budget, range status.

The sensor is set up the way ST's Ultra Lite Driver (ULD, STSW-IMG009) does it: the
chip's default register block is written once, one ranging is run to settle the VHV
loop, and then the distance mode and timing budget are chosen. Each sample waits for
the data-ready bit with a bounded timeout, reads the range status and the distance, and
clears the interrupt. A status other than "valid" gives None (the sampler treats it
like a missed echo), never a made-up distance. Ranging stops after every read, so the
sensor idles between wakes (cut its supply or hold XSHUT low to save more).

    tof = VL53L1X(I2C(0, sda=Pin(21), scl=Pin(22)), distance_mode=LONG, budget_ms=50)
    distances = tof.read_samples(5)      # mm, or None for a sample the sensor rejected

Long mode reaches about 4 m in the dark and 1.3 m in bright light; short mode about
1.3 m but copes better with ambient light. A bin deeper than 1.3 m needs long mode.
"""

import time

from firmware.core.compat import const

SHORT = const(1)
LONG = const(2)
ADDRESS = const(0x29)
MODEL_ID = const(0xEACC)

_SOFT_RESET = const(0x0000)
_VHV_CONFIG_TIMEOUT_MACROP_LOOP_BOUND = const(0x0008)
_VHV_CONFIG_INIT = const(0x000B)
_DEFAULT_CONFIG_START = const(0x002D)
_GPIO_HV_MUX_CTRL = const(0x0030)
_GPIO_TIO_HV_STATUS = const(0x0031)
_PHASECAL_TIMEOUT_MACROP = const(0x004B)
_RANGE_TIMEOUT_MACROP_A_HI = const(0x005E)
_RANGE_VCSEL_PERIOD_A = const(0x0060)
_RANGE_TIMEOUT_MACROP_B_HI = const(0x0061)
_RANGE_VCSEL_PERIOD_B = const(0x0063)
_RANGE_VALID_PHASE_HIGH = const(0x0069)
_SD_CONFIG_WOI_SD0 = const(0x0078)
_SD_CONFIG_INITIAL_PHASE_SD0 = const(0x007A)
_SYSTEM_INTERRUPT_CLEAR = const(0x0086)
_SYSTEM_MODE_START = const(0x0087)
_RESULT_RANGE_STATUS = const(0x0089)
_RESULT_RANGE_MM_SD0 = const(0x0096)
_FIRMWARE_SYSTEM_STATUS = const(0x00E5)
_IDENTIFICATION_MODEL_ID = const(0x010F)

_START = const(0x40)
_INIT_SAMPLE_TIMEOUT_MS = const(500)
_STOP = const(0x00)

# ST's default register values for 0x2D..0x87 (from the ULD, BSD-3-Clause): I2C and GPIO
# levels, interrupt on new sample, sigma 90 mm, signal 0.25 MCPS, full 16x16 ROI.
_DEFAULT_CONFIG = bytes((
    0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x02, 0x08, 0x00, 0x08, 0x10, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0xFF, 0x00, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x0B, 0x00,
    0x00, 0x02, 0x0A, 0x21, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0xC8, 0x00, 0x00,
    0x38, 0xFF, 0x01, 0x00, 0x08, 0x00, 0x00, 0x01, 0xDB, 0x0F, 0x01, 0xF1, 0x0D, 0x01,
    0x68, 0x00, 0x80, 0x08, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x0F, 0x89, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x0F, 0x0D, 0x0E, 0x0E, 0x00, 0x00, 0x02, 0xC7, 0xFF,
    0x9B, 0x00, 0x00, 0x00, 0x01, 0x01, 0x40,
))

# mode: (phasecal timeout, VCSEL period A, VCSEL period B, valid phase high, WOI, phase)
_MODES = {
    SHORT: (0x14, 0x07, 0x05, 0x38, 0x0705, 0x0606),
    LONG: (0x0A, 0x0F, 0x0D, 0xB8, 0x0F0D, 0x0E0E),
}
# mode: {budget ms: (timeout macrop A, timeout macrop B)}
_BUDGETS = {
    SHORT: {15: (0x001D, 0x0027), 20: (0x0051, 0x006E), 33: (0x00D6, 0x006E),
            50: (0x01AE, 0x01E8), 100: (0x02E1, 0x0388), 200: (0x03E1, 0x0496),
            500: (0x0591, 0x05C1)},
    LONG: {20: (0x001E, 0x0022), 33: (0x0060, 0x006E), 50: (0x00AD, 0x00C6),
           100: (0x01CC, 0x01EA), 200: (0x02D9, 0x02F8), 500: (0x048F, 0x04A4)},
}
# Raw RESULT__RANGE_STATUS (low 5 bits) to the ULD's range status: 0 valid, 1 sigma
# failure, 2 signal failure, 4 out of bounds (phase), 7 wrap-around, others rare.
_STATUS = (255, 255, 255, 5, 2, 4, 1, 7, 3, 0, 255, 255, 9, 13, 255, 255, 255, 255, 10,
           6, 255, 255, 11, 12)
VALID = const(0)


class VL53L1XError(OSError):
    """The sensor is absent, the wrong chip, or stopped answering in time."""


def range_status(raw: int) -> int:
    """The ULD range status for a raw RESULT__RANGE_STATUS byte (255: unknown)."""
    raw &= 0x1F
    return _STATUS[raw] if raw < len(_STATUS) else 255


class VL53L1X:
    """One sensor on an I2C bus (machine.I2C or anything with readfrom_mem/writeto_mem)."""

    def __init__(self, i2c: object, address: int = ADDRESS, distance_mode: int = LONG,
                 budget_ms: int = 50, boot_timeout_ms: int = 100) -> None:
        if distance_mode not in _MODES:
            raise ValueError("distance_mode: must be SHORT (1) or LONG (2)")
        if budget_ms not in _BUDGETS[distance_mode]:
            raise ValueError("budget_ms: must be one of " + str(sorted(_BUDGETS[distance_mode]))
                             + " in this distance mode")
        self.i2c = i2c
        self.address = address
        self.budget_ms = budget_ms
        # A sample takes the timing budget plus a few ms of overhead; allow twice that.
        self.sample_timeout_ms = 2 * budget_ms + 20
        self.last_status = []  # type: list[int]
        try:
            model = self._read16(_IDENTIFICATION_MODEL_ID)
        except OSError as e:
            raise VL53L1XError("no VL53L1X at I2C address " + hex(address)) from e
        if model != MODEL_ID:
            raise VL53L1XError("I2C device " + hex(address) + " is not a VL53L1X (model id "
                               + hex(model) + ")")
        self._wait(_FIRMWARE_SYSTEM_STATUS, 0x01, boot_timeout_ms, "boot")
        self._write(_DEFAULT_CONFIG_START, _DEFAULT_CONFIG)
        # One ranging settles the VHV loop; then it runs from the stored value.
        # The default block's own budget is about 100 ms; allow five times that.
        self._write8(_SYSTEM_MODE_START, _START)
        self._wait_ready(_INIT_SAMPLE_TIMEOUT_MS)
        self._write8(_SYSTEM_INTERRUPT_CLEAR, 0x01)
        self._write8(_SYSTEM_MODE_START, _STOP)
        self._write8(_VHV_CONFIG_TIMEOUT_MACROP_LOOP_BOUND, 0x09)
        self._write8(_VHV_CONFIG_INIT, 0x00)
        self.set_mode(distance_mode, budget_ms)

    # -- registers (16-bit addresses, big-endian values) --

    def _read(self, reg: int, n: int) -> bytes:
        return bytes(self.i2c.readfrom_mem(self.address, reg, n, addrsize=16))  # type: ignore[attr-defined]

    def _read8(self, reg: int) -> int:
        return self._read(reg, 1)[0]

    def _read16(self, reg: int) -> int:
        b = self._read(reg, 2)
        return (b[0] << 8) | b[1]

    def _write(self, reg: int, data: bytes) -> None:
        self.i2c.writeto_mem(self.address, reg, data, addrsize=16)  # type: ignore[attr-defined]

    def _write8(self, reg: int, value: int) -> None:
        self._write(reg, bytes((value & 0xFF,)))

    def _write16(self, reg: int, value: int) -> None:
        self._write(reg, bytes(((value >> 8) & 0xFF, value & 0xFF)))

    def _wait(self, reg: int, mask: int, timeout_ms: int, what: str) -> None:
        start = time.ticks_ms()
        while not self._read8(reg) & mask:
            if time.ticks_diff(time.ticks_ms(), start) >= timeout_ms:
                raise VL53L1XError("VL53L1X " + what + ": no answer in " + str(timeout_ms)
                                   + " ms")
            time.sleep_ms(1)

    def _data_ready(self) -> bool:
        # Interrupt polarity: bit 4 of GPIO_HV_MUX__CTRL set means active low.
        polarity = 0 if self._read8(_GPIO_HV_MUX_CTRL) & 0x10 else 1
        return (self._read8(_GPIO_TIO_HV_STATUS) & 0x01) == polarity

    def _wait_ready(self, timeout_ms: int) -> None:
        start = time.ticks_ms()
        while not self._data_ready():
            if time.ticks_diff(time.ticks_ms(), start) >= timeout_ms:
                raise VL53L1XError("VL53L1X ranging: no sample in " + str(timeout_ms) + " ms")
            time.sleep_ms(1)

    # -- public --

    def set_mode(self, distance_mode: int, budget_ms: int) -> None:
        """Choose SHORT or LONG and a timing budget valid for it (ms)."""
        if distance_mode not in _MODES or budget_ms not in _BUDGETS[distance_mode]:
            raise ValueError("budget_ms: " + str(budget_ms) + " is not valid in mode "
                             + str(distance_mode))
        phasecal, vcsel_a, vcsel_b, phase_high, woi, initial_phase = _MODES[distance_mode]
        self._write8(_PHASECAL_TIMEOUT_MACROP, phasecal)
        self._write8(_RANGE_VCSEL_PERIOD_A, vcsel_a)
        self._write8(_RANGE_VCSEL_PERIOD_B, vcsel_b)
        self._write8(_RANGE_VALID_PHASE_HIGH, phase_high)
        self._write16(_SD_CONFIG_WOI_SD0, woi)
        self._write16(_SD_CONFIG_INITIAL_PHASE_SD0, initial_phase)
        timeout_a, timeout_b = _BUDGETS[distance_mode][budget_ms]
        self._write16(_RANGE_TIMEOUT_MACROP_A_HI, timeout_a)
        self._write16(_RANGE_TIMEOUT_MACROP_B_HI, timeout_b)
        self.distance_mode = distance_mode
        self.budget_ms = budget_ms
        self.sample_timeout_ms = 2 * budget_ms + 20

    def read_samples(self, n: int) -> list[int | None]:
        """n distances in mm (None where the sensor flagged the sample), then stop ranging.

        The range status of each sample is kept in last_status. A sensor that stops
        answering raises VL53L1XError after a bounded wait, with ranging stopped.
        """
        out = []  # type: list[int | None]
        self.last_status = []
        self._write8(_SYSTEM_INTERRUPT_CLEAR, 0x01)
        self._write8(_SYSTEM_MODE_START, _START)
        try:
            for _ in range(n):
                self._wait_ready(self.sample_timeout_ms)
                status = range_status(self._read8(_RESULT_RANGE_STATUS))
                distance = self._read16(_RESULT_RANGE_MM_SD0)
                self._write8(_SYSTEM_INTERRUPT_CLEAR, 0x01)
                self.last_status.append(status)
                out.append(distance if status == VALID else None)
        finally:
            self._write8(_SYSTEM_MODE_START, _STOP)
        return out
