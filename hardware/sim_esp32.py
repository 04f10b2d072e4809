"""The ESP32 device layer under CPython: firmware/device/esp32.py and the drivers it
loads, on simulated chips wired to a board's pins and on simulated time.

    sim = SimEsp32(board_json("esp32-devkitc", "ultrasonic"))
    with sim.installed() as esp32:                 # firmware.device.esp32, as on a board
        hw = esp32.Hardware(sim.board)
        distances, counts, battery_mv, temp_dc = hw.read_samples(5)
    sim.clock.us                                   # how long that took, simulated

Stand-ins for MicroPython's machine, esp32, network, ntptime, onewire and ds18x20 are
put in sys.modules only inside installed(), with firmware.device.esp32 and the drivers
imported afresh on them and their `time` replaced by the simulated clock. The chips
(hardware/sim_hx711.py, sim_ultrasonic.py, sim_sensors.py) keep their own timing, so
the clock shows what a wake spends waiting on them. Calls that leave the chip
(deepsleep, wake_on_ext0, ...) are recorded in `calls`.
"""

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hardware.sim_hx711 import SimClock, SimHX711
from hardware.sim_sensors import OneWireError, SimADC, SimContact, SimDS18X20
from hardware.sim_ultrasonic import SimUltrasonic

_STAND_INS = ("machine", "esp32", "network", "ntptime", "onewire", "ds18x20")
_DEVICE = ("firmware.device.esp32", "firmware.drivers.battery", "firmware.drivers.hx711",
           "firmware.drivers.ultrasonic", "firmware.drivers.ds18b20",
           "firmware.drivers.switches")


class _Output:
    """An output pin that remembers its level."""

    def __init__(self) -> None:
        self.level = 0

    def value(self, v: int | None = None) -> int:
        if v is not None:
            self.level = int(v)
        return self.level


class SimEsp32:
    """A board definition's pins wired to simulated chips that share one clock."""

    def __init__(self, board: dict[str, Any], *, distance_mm: int | None = 650,
                 counts: int = 215_000, air_temp_dc: int = 215, battery_uv: int = 1_800_000,
                 lid_closed: bool = True, hx711_sps: int = 80) -> None:
        self.board = board
        self.clock = SimClock()
        pins = board["pins"]
        self.hx711 = SimHX711(lambda: counts, self.clock, sps=hx711_sps)
        self.ultrasonic = SimUltrasonic(self.clock, distance_mm, air_temp_dc)
        self.thermometer = SimDS18X20([air_temp_dc / 10], clock=self.clock)
        self.adc = SimADC(battery_uv)
        self.lid = SimContact(lid_closed)
        self.tilt = SimContact(False)
        self.sensor_power = _Output()
        self.pins: dict[int, object] = {
            pins["hx711_dout"]: self.hx711.dout, pins["hx711_sck"]: self.hx711.sck,
            pins["us_trigger"]: self.ultrasonic.trigger, pins["us_echo"]: self.ultrasonic.echo,
            pins["lid_switch"]: self.lid, pins["battery_adc"]: _Output()}
        for name, pin in (("sensor_power", self.sensor_power), ("tilt_switch", self.tilt),
                          ("onewire", _Output())):
            if pins.get(name) is not None:
                self.pins[pins[name]] = pin
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def _record(self, name: str) -> Any:
        return lambda *args, **_kw: self.calls.append((name, args))

    def _modules(self) -> dict[str, types.ModuleType]:
        sim = self

        class Pin:
            IN, OUT, PULL_UP = 1, 3, 2

            def __new__(cls, pin_id: int, mode: int = -1, pull: int = -1,
                        value: int | None = None) -> Any:
                pin = sim.pins[pin_id]
                if value is not None:
                    pin.value(value)  # type: ignore[attr-defined]
                return pin

        class ADC:
            ATTN_11DB = 3

            def __new__(cls, pin: object, atten: int = 0) -> Any:
                return sim.adc

        class WDT:
            def __init__(self, timeout: int = 5000) -> None:
                sim.calls.append(("WDT", (timeout,)))

            def feed(self) -> None:
                pass

        class RTC:
            def __init__(self) -> None:
                self.data = b""

            def memory(self, data: bytes | None = None) -> bytes:
                if data is not None:
                    self.data = bytes(data)
                return self.data

        class WLAN:
            def __init__(self, interface: int) -> None:
                self.connected = False

            def active(self, on: bool | None = None) -> bool:
                return True

            def isconnected(self) -> bool:
                return self.connected

            connect = disconnect = ifconfig = staticmethod(sim._record("wlan"))

        machine = types.ModuleType("machine")
        for name, value in {
                "Pin": Pin, "ADC": ADC, "WDT": WDT, "RTC": RTC, "I2C": object,
                "time_pulse_us": self.ultrasonic.time_pulse_us,
                "disable_irq": lambda: 0, "enable_irq": lambda state: None,
                "lightsleep": self.clock.lightsleep_ms,
                "deepsleep": self._record("deepsleep"),
                "reset_cause": lambda: 4, "DEEPSLEEP_RESET": 4,
                "wake_reason": lambda: 0, "EXT0_WAKE": 2, "PIN_WAKE": 2}.items():
            setattr(machine, name, value)
        esp32 = types.ModuleType("esp32")
        esp32.WAKEUP_ALL_LOW = False  # type: ignore[attr-defined]
        esp32.WAKEUP_ANY_HIGH = True  # type: ignore[attr-defined]
        esp32.wake_on_ext0 = self._record("wake_on_ext0")  # type: ignore[attr-defined]
        esp32.wake_on_gpio = self._record("wake_on_gpio")  # type: ignore[attr-defined]
        network = types.ModuleType("network")
        network.WLAN = WLAN  # type: ignore[attr-defined]
        network.STA_IF = 0  # type: ignore[attr-defined]
        ntptime = types.ModuleType("ntptime")
        ntptime.settime = self._record("ntp")  # type: ignore[attr-defined]
        onewire = types.ModuleType("onewire")
        onewire.OneWire = lambda pin: pin  # type: ignore[attr-defined]
        onewire.OneWireError = OneWireError  # type: ignore[attr-defined]
        ds18x20 = types.ModuleType("ds18x20")
        ds18x20.DS18X20 = lambda bus: sim.thermometer  # type: ignore[attr-defined]
        return {"machine": machine, "esp32": esp32, "network": network, "ntptime": ntptime,
                "onewire": onewire, "ds18x20": ds18x20}

    @contextmanager
    def installed(self) -> Iterator[types.ModuleType]:
        """firmware.device.esp32 on these chips; sys.modules as it was afterwards."""
        saved = {name: sys.modules.get(name) for name in _STAND_INS + _DEVICE}
        for name in _DEVICE:
            sys.modules.pop(name, None)
        sys.modules.update(self._modules())
        try:
            device = importlib.import_module("firmware.device.esp32")
            for name in _DEVICE:
                module = importlib.import_module(name)
                if hasattr(module, "time"):
                    module.time = self.clock  # type: ignore[attr-defined]
            yield device
        finally:
            for name, was in saved.items():
                if was is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = was
