"""Board definitions pass the rule book, and the rule book catches what it should."""

import copy

import pytest

from hardware.boards import BOARDS, check


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_board_definitions_are_valid(name: str) -> None:
    """Every shipped board: battery on ADC1, no conflicts, lid can wake the chip."""
    assert check(BOARDS[name]) == []


def test_rule_book_catches_mistakes() -> None:
    """Battery on ADC2, a pin used twice, a strapping pin, a lid that cannot wake."""
    bad = copy.deepcopy(BOARDS["esp32-devkitc"])
    pins = bad["pins"]
    pins["battery_adc"] = 26
    pins["onewire"] = 32
    pins["tilt_switch"] = 15
    pins["lid_switch"] = 23
    problems = "\n".join(check(bad))
    assert "battery_adc: GPIO26 is not on ADC1" in problems
    assert "GPIO26 already used by us_echo" in problems
    assert "onewire: GPIO32 already used by hx711_dout" in problems
    assert "tilt_switch: GPIO15 is a strapping or flash pin" in problems
    assert "lid_switch: GPIO23 cannot wake the chip" in problems
