"""The ESP32 under firmware/app.py: watchdog, RTC and its memory, Wi-Fi, NTP, lid wake.

Only this module and the drivers touch `machine`; firmware/app.py gets an Esp32 object
and never knows it is on a chip (tests give it hardware/sim_platform.py instead). The
board's pins come from /board.json, written by `binfleet firmware build --board ...`
from hardware/boards/, with "fill_sensor" "ultrasonic" or "vl53l1x".

    p = platform()                 # watchdog running from here on
    p.sleep(app.main(p))           # deep sleep; the lid switch or the timer wakes us
"""

import json
import time

import esp32
import machine
import network
import ntptime
from machine import ADC, I2C, RTC, WDT, Pin

from firmware.core.compat import const
from firmware.core.reading import FLAG_LID_OPEN, FLAG_TILTED
from firmware.drivers.battery import Battery
from firmware.drivers.hx711 import HX711

# A wake's worst case: sensors about 3 s, Wi-Fi timeout 8 s, MQTT connect, a 20-message
# backlog at 5 s per PUBACK timeout, fed between messages. 30 s between feeds.
_WDT_TIMEOUT_MS = const(30_000)
_COUNTS_SAMPLES = const(3)
# The port's epoch: 1970 on current ESP32 builds, 2000 on older ones.
_EPOCH_MS = 946_684_800_000 if time.gmtime(0)[0] == 2000 else 0


def load_board(path: str = "/board.json") -> dict[str, object]:
    """The board definition the bundle was built for."""
    with open(path) as f:
        board = json.load(f)
    if not isinstance(board, dict):
        raise ValueError("board.json: must be a JSON object")
    return board


class Hardware:
    """The sensors of one bin, as firmware/node.py reads them."""

    def __init__(self, board: dict[str, object]) -> None:
        pins = board["pins"]
        assert isinstance(pins, dict)
        power = pins.get("sensor_power")
        self.power = Pin(power, Pin.OUT, value=1) if power is not None else None
        time.sleep_ms(50)  # sensor rail settles
        self.hx = HX711(Pin(pins["hx711_dout"], Pin.IN), Pin(pins["hx711_sck"], Pin.OUT))
        # Drivers are imported only for the parts this board has: each costs heap.
        self.tof = None  # type: object
        self.us = None  # type: object
        self.to_mm = None  # type: object
        if board.get("fill_sensor") == "vl53l1x":
            from firmware.drivers.vl53l1x import LONG, VL53L1X

            self.tof = VL53L1X(I2C(0, sda=Pin(pins["i2c_sda"]), scl=Pin(pins["i2c_scl"])),
                               LONG, 50)
        else:
            from firmware.drivers.ultrasonic import Ultrasonic, distance_mm

            self.us = Ultrasonic(Pin(pins["us_trigger"], Pin.OUT), Pin(pins["us_echo"], Pin.IN))
            self.to_mm = distance_mm
        self.lid = None  # type: object
        self.tilt = None  # type: object
        if pins.get("lid_switch") is not None or pins.get("tilt_switch") is not None:
            from firmware.drivers.switches import Switch

            if pins.get("lid_switch") is not None:
                self.lid = Switch(Pin(pins["lid_switch"], Pin.IN, Pin.PULL_UP))
            if pins.get("tilt_switch") is not None:
                self.tilt = Switch(Pin(pins["tilt_switch"], Pin.IN, Pin.PULL_UP))
        adc = ADC(Pin(pins["battery_adc"]), atten=ADC.ATTN_11DB)
        ratio = board.get("divider_ratio", 2.0)
        assert isinstance(ratio, (int, float))
        self.battery = Battery(adc, int(ratio * 1000))
        self.thermo = None  # type: object
        if pins.get("onewire") is not None:
            from ds18x20 import DS18X20
            from onewire import OneWire

            from firmware.drivers.ds18b20 import Thermometer

            self.thermo = Thermometer(DS18X20(OneWire(Pin(pins["onewire"]))))

    def read_samples(self, n: int) -> tuple[list[int | None], list[int | None], int | None,
                                            int | None]:
        """(distances_mm, counts, battery_mv, temp_dc) for one wake.

        The slow parts overlap, since every millisecond awake costs battery: the
        DS18B20 converts and the HX711 settles while the fill sensor pings; the echo
        times become millimetres once the air temperature is in.
        """
        thermo = self.thermo
        if thermo is not None:
            thermo.start()  # type: ignore[attr-defined]
        self.hx.power_up()
        distances = [None] * n  # type: list[int | None]
        echoes = None
        if self.tof is not None:
            try:
                distances = self.tof.read_samples(n)  # type: ignore[attr-defined]
            except OSError:
                pass  # no answer: the sampler flags no echo, never a number
        elif self.us is not None:
            echoes = self.us.echoes_us(n)  # type: ignore[attr-defined]
        counts = self.hx.read_samples(_COUNTS_SAMPLES)
        self.hx.power_down()
        temp = thermo.read_dc() if thermo is not None else None  # type: ignore[attr-defined]
        if echoes is not None:
            air = temp if temp is not None else 200
            distances = [None if e is None else self.to_mm(e, air)  # type: ignore[operator]
                         for e in echoes]
        return distances, counts, self.battery.read_mv(), temp

    def switch_flags(self) -> int:
        """Lid open (contact open: the lid lifts off the switch) and tilted, as flags."""
        flags = 0
        if self.lid is not None and not self.lid.closed():  # type: ignore[attr-defined]
            flags |= FLAG_LID_OPEN
        if self.tilt is not None and self.tilt.closed():  # type: ignore[attr-defined]
            flags |= FLAG_TILTED
        return flags

    def read_counts(self) -> int:
        """One load-cell sample for provisioning (TARE, CAL)."""
        self.hx.power_up()
        value = self.hx.read()
        if value is None:
            raise OSError("HX711 not ready")
        return value

    def off(self) -> None:
        """Everything off for deep sleep."""
        self.hx.power_down()
        if self.power is not None:
            self.power.value(0)


class Esp32:
    """The chip's services for firmware/app.py."""

    def __init__(self, board: dict[str, object], hw: Hardware) -> None:
        self.wdt = WDT(timeout=_WDT_TIMEOUT_MS)
        self.hw = hw
        self.rtc = RTC()
        self.wlan = network.WLAN(network.STA_IF)
        pins = board["pins"]
        assert isinstance(pins, dict)
        self.lid = Pin(pins["lid_switch"], Pin.IN, Pin.PULL_UP)
        # The ESP32 wakes on one RTC pin (ext0); the C3 has no ext0, only GPIO0-5 wake.
        self.gpio_wake = board.get("name") == "esp32-c3"

    def feed(self) -> None:
        self.wdt.feed()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + _EPOCH_MS

    def rtc_read(self) -> bytes:
        return self.rtc.memory()

    def rtc_write(self, data: bytes) -> None:
        self.rtc.memory(data)

    def power_on(self) -> bool:
        return machine.reset_cause() != machine.DEEPSLEEP_RESET

    def woke_by_lid(self) -> bool:
        # EXT0_WAKE and PIN_WAKE are the same value (2) in MicroPython's ESP32 port.
        return machine.wake_reason() in (machine.EXT0_WAKE, machine.PIN_WAKE)

    def wifi_connect(self, ssid: str, password: str, timeout_ms: int, ip: object) -> bool:
        """Join the access point within timeout_ms. ip: "ip,netmask,gateway,dns" for a
        static address, which saves the DHCP exchange (about 2 s and 230 mC a wake)."""
        wlan = self.wlan
        wlan.active(True)
        if isinstance(ip, str) and ip.count(",") == 3:
            a, m, g, d = ip.split(",")
            wlan.ifconfig((a, m, g, d))
        wlan.connect(ssid, password)
        start = time.ticks_ms()
        while not wlan.isconnected():
            if time.ticks_diff(time.ticks_ms(), start) >= timeout_ms:
                return False
            self.wdt.feed()
            time.sleep_ms(50)
        return True

    def wifi_off(self) -> None:
        try:
            self.wlan.disconnect()
        except OSError:
            pass
        self.wlan.active(False)

    def ntp_sync(self) -> bool:
        try:
            ntptime.timeout = 2
            ntptime.settime()
            return True
        except (OSError, OverflowError):
            return False

    def serve_provisioning(self, prov: object, window_ms: int) -> None:
        """Answer provisioning lines on the USB serial port (firmware/device/serial_window.py,
        imported only when a window opens)."""
        from firmware.device.serial_window import serve

        serve(prov, window_ms, self.wdt.feed)

    def sleep(self, seconds: int) -> None:
        """Sensors off, the lid switch armed, deep sleep; the wake is a fresh boot.

        The reed switch is closed (pin low) while the lid is shut. The wake is armed for
        the opposite of the lid's state now: opening a shut lid wakes the board, and a
        lid left open wakes it when it closes, instead of waking it again at once.
        """
        self.hw.off()
        level = esp32.WAKEUP_ANY_HIGH if self.lid.value() == 0 else esp32.WAKEUP_ALL_LOW
        if self.gpio_wake:
            esp32.wake_on_gpio((self.lid,), level)
        else:
            esp32.wake_on_ext0(self.lid, level)
        machine.deepsleep(seconds * 1000)


def platform() -> Esp32:
    """The board from /board.json with its sensors, and the watchdog started."""
    board = load_board()
    return Esp32(board, Hardware(board))
