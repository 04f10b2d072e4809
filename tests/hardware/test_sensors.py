"""Battery, switch and DS18B20 drivers against simulated parts."""

import sys
import types

import pytest

from hardware.sim_hx711 import SimClock
from hardware.sim_sensors import SimADC, SimContact, SimDS18X20


def test_battery_millivolts_through_the_divider() -> None:
    """1.6 V at the pin through a 2:1 divider is 3.2 V at the battery; ripple averages out."""
    from firmware.drivers.battery import Battery

    bat = Battery(SimADC(1_600_000, ripple_uv=20_000), divider_x1000=2000)  # type: ignore[arg-type]
    assert bat.read_mv() == 3200
    with pytest.raises(ValueError, match="divider_x1000"):
        Battery(SimADC(0), divider_x1000=500)  # type: ignore[arg-type]


def test_switch_closed_open_and_debounced() -> None:
    """A contact to ground reads closed; a single bounce does not flip it."""
    from firmware.drivers.switches import Switch

    contact = SimContact(closed=True)
    lid = Switch(contact)  # type: ignore[arg-type]
    assert lid.closed()
    contact.closed = False
    assert not lid.closed()
    contact.bounces = [0]  # one glitch low while open
    assert not lid.closed()


@pytest.fixture
def ds18b20(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """firmware.drivers.ds18b20 with a stand-in onewire module and a simulated clock."""
    clock = SimClock()
    machine = types.ModuleType("machine")
    machine.lightsleep = clock.lightsleep_ms  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "machine", machine)
    monkeypatch.delitem(sys.modules, "firmware.drivers.ds18b20", raising=False)
    import firmware.drivers.ds18b20 as mod

    monkeypatch.setattr(mod, "time", clock)
    return mod


@pytest.mark.parametrize(("celsius", "dc"), [(21.5, 215), (-4.25, -43), (-10.5, -105),
                                             (0.0, 0), (70.06, 700), (70.3, 703)])
def test_temperature_in_tenths(ds18b20: types.ModuleType, celsius: float, dc: int) -> None:
    """The chip is set to 10 bits (quarter degrees) and read after its 188 ms
    conversion; degrees C come back as rounded tenths."""
    sim = SimDS18X20([celsius], clock=ds18b20.time)
    t = ds18b20.Thermometer(sim)
    assert t.read_dc() == dc
    assert sim.bits == 10
    assert 187_500 <= ds18b20.time.us < 250_000


def test_conversion_runs_while_the_wake_does_other_things(ds18b20: types.ModuleType) -> None:
    """start() returns at once; read_dc() waits only what is left of the conversion.
    The resolution is written once, not on every reading."""
    clock = ds18b20.time
    sim = SimDS18X20([20.0, 21.0], clock=clock)
    t = ds18b20.Thermometer(sim)
    t.start()
    assert clock.us < 1000
    clock.sleep_ms(150)  # the pings and the load cell
    assert t.read_dc() == 200
    assert clock.us < 190_000
    t.start()
    clock.sleep_ms(300)
    before = clock.us
    assert t.read_dc() == 210
    assert clock.us == before  # no wait at all: the conversion was done
    assert sim.scratch_writes == 1


def test_power_on_85_is_measured_again(ds18b20: types.ModuleType) -> None:
    """85.0 right after power-up is the chip's reset value: measure again, report that."""
    sim = SimDS18X20([85.0, 22.0], clock=ds18b20.time)
    assert ds18b20.Thermometer(sim).read_dc() == 220
    assert sim.conversions == 2
    real_fire = SimDS18X20([85.0, 85.0])
    assert ds18b20.Thermometer(real_fire).read_dc() == 850  # twice: believe it


def test_missing_or_failing_sensor_is_none(ds18b20: types.ModuleType) -> None:
    """No sensor on the bus, or a bus error: None, and the next read rescans."""
    assert ds18b20.Thermometer(SimDS18X20([20.0], present=False)).read_dc() is None
    sim = SimDS18X20([20.0])
    t = ds18b20.Thermometer(sim)
    sim.fail = True
    assert t.read_dc() is None
    sim.fail = False
    assert t.read_dc() == 200
