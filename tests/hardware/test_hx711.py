"""The HX711 driver against a pin-level simulated chip."""

import sys
import types

import pytest

from hardware.sim_hx711 import SimClock, SimHX711


@pytest.fixture
def hx711_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """firmware.drivers.hx711 imported with a stand-in `machine` and MicroPython's time API."""
    machine = types.ModuleType("machine")
    machine.Pin = object  # type: ignore[attr-defined]
    machine.disable_irq = lambda: 0  # type: ignore[attr-defined]
    machine.enable_irq = lambda state: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "machine", machine)
    monkeypatch.delitem(sys.modules, "firmware.drivers.hx711", raising=False)
    import firmware.drivers.hx711 as mod

    monkeypatch.setattr(mod, "time", SimClock())
    return mod


@pytest.mark.parametrize("counts", [0, 1, 215_000, 0x7FFFFF, -1, -1000, -0x800000])
def test_reads_24_bit_twos_complement(hx711_module: types.ModuleType, counts: int) -> None:
    """Positive, negative and the rails come back exactly."""
    chip = SimHX711(lambda: counts, hx711_module.time)
    hx = hx711_module.HX711(chip.dout, chip.sck)
    assert hx.read() == counts
    assert hx.read() == counts


@pytest.mark.parametrize(("gain", "pulses"), [(128, 1), (32, 2), (64, 3)])
def test_gain_sets_the_extra_pulses(hx711_module: types.ModuleType, gain: int,
                                    pulses: int) -> None:
    """25, 26 or 27 pulses in all select the next conversion's gain and channel."""
    chip = SimHX711(lambda: 5, hx711_module.time)
    hx = hx711_module.HX711(chip.dout, chip.sck, gain=gain)
    hx.read()
    hx.read()
    assert chip.gain_pulses[0] == pulses
    with pytest.raises(ValueError, match="gain"):
        hx711_module.HX711(chip.dout, chip.sck, gain=100)


def test_dead_chip_times_out(hx711_module: types.ModuleType) -> None:
    """A chip that never gets ready gives None after the timeout instead of hanging."""
    chip = SimHX711(lambda: 5, hx711_module.time)
    chip.never_ready = True
    hx = hx711_module.HX711(chip.dout, chip.sck, timeout_ms=200)
    assert hx.read_samples(3) == [None, None, None]
    assert hx711_module.time.ticks_ms() >= 3 * 200


def test_power_down_and_up(hx711_module: types.ModuleType) -> None:
    """SCK held high sleeps the chip; low wakes it and reads work again."""
    chip = SimHX711(lambda: 42, hx711_module.time)
    hx = hx711_module.HX711(chip.dout, chip.sck, timeout_ms=50)
    assert hx.read() == 42
    hx.power_down()
    assert not chip.powered
    assert chip.sck_level == 1
    assert hx.read() is None  # asleep: never ready
    hx.power_up()
    assert chip.powered
    assert hx.read() == 42
