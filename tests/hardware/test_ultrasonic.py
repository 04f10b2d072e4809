"""The ultrasonic driver against a simulated JSN-SR04T."""

import sys
import types

import pytest

from hardware.sim_hx711 import SimClock
from hardware.sim_ultrasonic import SimUltrasonic


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, SimClock]:
    """firmware.drivers.ultrasonic with a stand-in `machine` and a simulated clock."""
    clock = SimClock()
    machine = types.ModuleType("machine")
    machine.Pin = object  # type: ignore[attr-defined]
    sensors: list[SimUltrasonic] = []

    def time_pulse_us(pin: object, level: int, timeout: int) -> int:
        return sensors[0].time_pulse_us(pin, level, timeout)

    machine.time_pulse_us = time_pulse_us  # type: ignore[attr-defined]
    machine.lightsleep = clock.lightsleep_ms  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "machine", machine)
    monkeypatch.delitem(sys.modules, "firmware.drivers.ultrasonic", raising=False)
    import firmware.drivers.ultrasonic as mod

    monkeypatch.setattr(mod, "time", clock)
    mod.SENSORS = sensors  # type: ignore[attr-defined]
    return mod, clock


def sensor(setup: tuple[types.ModuleType, SimClock], distance: int | None,
           air_dc: int) -> tuple[object, SimUltrasonic]:
    """A driver on a simulated module with a target at `distance` in air at `air_dc`."""
    mod, clock = setup
    sim = SimUltrasonic(clock, distance, air_dc)
    mod.SENSORS.append(sim)  # type: ignore[attr-defined]
    return mod.Ultrasonic(sim.trigger, sim.echo), sim


@pytest.mark.parametrize("air_dc", [-200, 0, 215, 400])
@pytest.mark.parametrize("distance", [250, 700, 1150, 4000])
def test_distance_with_the_right_temperature(setup: tuple[types.ModuleType, SimClock],
                                             distance: int, air_dc: int) -> None:
    """Given the air temperature, the distance comes back within 1 mm."""
    us, _ = sensor(setup, distance, air_dc)
    assert abs(us.ping(air_dc) - distance) <= 1  # type: ignore[attr-defined]


def test_ignoring_temperature_would_be_wrong(setup: tuple[types.ModuleType, SimClock]) -> None:
    """At 35 C, assuming 20 C reads about 2.6 % short: why the driver takes the temperature."""
    us, _ = sensor(setup, 1000, 350)
    assert us.ping(200) < 980  # type: ignore[attr-defined]
    assert abs(us.ping(350) - 1000) <= 1  # type: ignore[attr-defined]


def test_no_echo_is_none_after_a_bounded_wait(setup: tuple[types.ModuleType, SimClock]) -> None:
    """Nothing in range: None, after the time the maximum range needs, not forever."""
    _, clock = setup
    us, _ = sensor(setup, None, 200)
    assert us.read_samples(3) == [None, None, None]  # type: ignore[attr-defined]
    # Simulated time: three timeouts, two 60 ms gaps, three trigger sequences (17 us).
    assert clock.us == 3 * us.timeout_us + 2 * 60_000 + 3 * 17  # type: ignore[attr-defined]


def test_trigger_pulse_and_spacing(setup: tuple[types.ModuleType, SimClock]) -> None:
    """Every trigger is long enough, and pings are at least 60 ms apart."""
    us, sim = sensor(setup, 800, 200)
    assert us.read_samples(5, 200) == [800] * 5  # type: ignore[attr-defined]
    assert sim.short_triggers == 0
    gaps = [b - a for a, b in zip(sim.pings, sim.pings[1:], strict=False)]
    assert len(sim.pings) == 5
    assert min(gaps) >= 60_000
