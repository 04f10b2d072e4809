"""firmware/device/esp32.py on simulated chips and simulated time (hardware/sim_esp32.py):
a wake's sensor reads, the air-temperature correction, switch flags and deep sleep."""

import pytest

from binfleet.firmware_build import board_json
from firmware.core.reading import FLAG_LID_OPEN
from hardware.sim_esp32 import SimEsp32


@pytest.mark.parametrize("board", ["esp32-devkitc", "esp32-c3"])
def test_a_wake_reads_every_sensor_with_the_slow_parts_overlapped(board: str) -> None:
    """Distances, load-cell counts, battery and temperature come back right, and the
    DS18B20's conversion and the HX711's settling run during the pings instead of
    before or after them."""
    sim = SimEsp32(board_json(board, "ultrasonic"))
    with sim.installed() as esp32:
        hw = esp32.Hardware(sim.board)
        assert sim.sensor_power.level == 1
        started = sim.clock.us  # after the sensor rail settled
        distances, counts, battery_mv, temp_dc = hw.read_samples(5)
    assert distances == [650] * 5
    assert counts == [215_000] * 3
    assert battery_mv == 3600  # 1.8 V at the pin, 100k/100k divider
    assert temp_dc == 215
    assert sim.thermometer.bits == 10
    pings = sim.ultrasonic.pings
    assert len(pings) == 5
    serial = (pings[-1] - started) + sim.thermometer.conversion_us()
    assert sim.clock.us - started < serial


def test_distances_use_the_measured_air_temperature() -> None:
    """At 35 C sound is 2.6 % faster than at the 20 C assumed without a thermometer:
    the echo times are turned into millimetres with the DS18B20's reading."""
    sim = SimEsp32(board_json("esp32-devkitc", "ultrasonic"), distance_mm=2000,
                   air_temp_dc=350)
    with sim.installed() as esp32:
        distances, _counts, _mv, temp_dc = esp32.Hardware(sim.board).read_samples(3)
    assert temp_dc == 350
    assert distances == [2000] * 3
    blind = SimEsp32(board_json("esp32-devkitc", "ultrasonic"), distance_mm=2000,
                     air_temp_dc=350)
    blind.thermometer.present = False
    with blind.installed() as esp32:
        distances, _counts, _mv, temp_dc = esp32.Hardware(blind.board).read_samples(3)
    assert temp_dc is None
    assert all(d is not None and 1940 < d < 1960 for d in distances)


def test_switch_flags_and_deep_sleep_armed_for_the_lid() -> None:
    """An open lid is flagged; going to sleep switches the sensors off, powers the HX711
    down and arms the lid pin to wake the board on the opposite of its state."""
    sim = SimEsp32(board_json("esp32-devkitc", "ultrasonic"), lid_closed=False)
    with sim.installed() as esp32:
        hw = esp32.Hardware(sim.board)
        assert hw.switch_flags() & FLAG_LID_OPEN
        chip = esp32.Esp32(sim.board, hw)
        chip.sleep(900)
    assert sim.sensor_power.level == 0
    assert not sim.hx711.powered
    lid_pin = sim.board["pins"]["lid_switch"]
    assert ("wake_on_ext0", (sim.pins[lid_pin], False)) in sim.calls  # wake when it closes
    assert ("deepsleep", (900_000,)) in sim.calls
