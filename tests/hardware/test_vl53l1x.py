"""The VL53L1X driver against a register-level simulated sensor."""

import sys
import types

import pytest

from hardware.sim_hx711 import SimClock
from hardware.sim_vl53l1x import SimVL53L1X


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, SimClock]:
    """firmware.drivers.vl53l1x on a simulated clock."""
    clock = SimClock()
    monkeypatch.delitem(sys.modules, "firmware.drivers.vl53l1x", raising=False)
    import firmware.drivers.vl53l1x as mod

    monkeypatch.setattr(mod, "time", clock)
    return mod, clock


def test_default_block_covers_0x2d_to_0x87(setup: tuple[types.ModuleType, SimClock]) -> None:
    """The configuration block is exactly the 91 registers the chip expects."""
    mod, _ = setup
    assert len(mod._DEFAULT_CONFIG) == 0x87 - 0x2D + 1


@pytest.mark.parametrize(("mode", "distance"), [(2, 250), (2, 1100), (2, 3900), (1, 40),
                                                (1, 1200)])
def test_distances_in_reach(setup: tuple[types.ModuleType, SimClock], mode: int,
                            distance: int) -> None:
    """Valid samples come back as the distance, and ranging is stopped afterwards."""
    mod, clock = setup
    chip = SimVL53L1X(clock, distance)
    tof = mod.VL53L1X(chip, distance_mode=mode, budget_ms=50)
    assert chip.configured
    assert tof.read_samples(5) == [distance] * 5
    assert tof.last_status == [0] * 5
    assert not chip.ranging


def test_beyond_short_mode_reach_is_none(setup: tuple[types.ModuleType, SimClock]) -> None:
    """A 2 m target in short mode fails the signal check: None, not a number."""
    mod, clock = setup
    tof = mod.VL53L1X(SimVL53L1X(clock, 2000), distance_mode=mod.SHORT, budget_ms=33)
    assert tof.read_samples(3) == [None, None, None]
    assert tof.last_status == [2, 2, 2]
    tof.set_mode(mod.LONG, 100)
    assert tof.read_samples(2) == [2000, 2000]


def test_sigma_failure_is_none(setup: tuple[types.ModuleType, SimClock]) -> None:
    """A sample the chip flags as noisy is dropped even though it carries a distance."""
    mod, clock = setup
    chip = SimVL53L1X(clock, 800)
    tof = mod.VL53L1X(chip)
    chip.noisy = True
    assert tof.read_samples(2) == [None, None]
    assert tof.last_status == [1, 1]


def test_timing_budget_sets_the_pace(setup: tuple[types.ModuleType, SimClock]) -> None:
    """Five samples at 100 ms take about 500 ms; the registers say 100 ms."""
    mod, clock = setup
    chip = SimVL53L1X(clock, 800)
    tof = mod.VL53L1X(chip, budget_ms=100)
    assert chip.budget_ms() == 100
    start = clock.us
    tof.read_samples(5)
    assert 500_000 <= clock.us - start < 520_000


def test_bad_budget_is_refused(setup: tuple[types.ModuleType, SimClock]) -> None:
    """15 ms exists only in short mode."""
    mod, clock = setup
    with pytest.raises(ValueError, match="budget_ms"):
        mod.VL53L1X(SimVL53L1X(clock, 500), distance_mode=mod.LONG, budget_ms=15)


def test_wrong_chip_and_missing_chip(setup: tuple[types.ModuleType, SimClock]) -> None:
    """Another device at the address, or none: a clear error naming the address."""
    mod, clock = setup
    with pytest.raises(mod.VL53L1XError, match="not a VL53L1X"):
        mod.VL53L1X(SimVL53L1X(clock, 500, model_id=0xEE00))
    with pytest.raises(mod.VL53L1XError, match="no VL53L1X at I2C address 0x29"):
        mod.VL53L1X(SimVL53L1X(clock, 500, address=0x30))


def test_slow_boot_is_waited_for_and_a_dead_chip_times_out(
        setup: tuple[types.ModuleType, SimClock]) -> None:
    """Boot is polled; a chip that stops answering raises after a bounded wait, stopped."""
    mod, clock = setup
    chip = SimVL53L1X(clock, 600, boot_ms=30)
    tof = mod.VL53L1X(chip)
    chip.dead = True
    start = clock.us
    with pytest.raises(mod.VL53L1XError, match="no sample in"):
        tof.read_samples(3)
    assert clock.us - start <= (2 * 50 + 20 + 2) * 1000
    assert not chip.ranging
    with pytest.raises(mod.VL53L1XError, match="boot"):
        mod.VL53L1X(SimVL53L1X(clock, 600, boot_ms=10_000))


def test_active_low_interrupt_polarity(setup: tuple[types.ModuleType, SimClock]) -> None:
    """With the interrupt pin set active low, data ready reads inverted and still works."""
    mod, clock = setup
    chip = SimVL53L1X(clock, 700)
    tof = mod.VL53L1X(chip)
    chip.mem[0x0030] |= 0x10
    assert tof.read_samples(2) == [700, 700]
