"""Board definitions as data: pins, ADC attenuation and divider for each supported board.

The firmware reads the same dicts (copied to the device as `board.py`); `check()` is
the rule book every definition must pass (tests/hardware/test_boards.py).
"""

from hardware.boards import esp32_c3, esp32_devkitc
from hardware.boards.schema import Board

BOARDS: dict[str, Board] = {b.BOARD["name"]: b.BOARD for b in (esp32_devkitc, esp32_c3)}


def check(board: Board) -> list[str]:
    """Return what is wrong with a board definition (empty if nothing)."""
    problems = []
    pins = board["pins"]
    if pins["battery_adc"] not in board["adc1_pins"]:
        problems.append(f"battery_adc: GPIO{pins['battery_adc']} is not on ADC1 "
                        "(ADC2 cannot be read while Wi-Fi is on)")
    used: dict[int, str] = {}
    for role, pin in pins.items():
        if pin is None:
            continue
        if pin in board["forbidden_pins"]:
            problems.append(f"{role}: GPIO{pin} is a strapping or flash pin")
        if pin in used:
            problems.append(f"{role}: GPIO{pin} already used by {used[pin]}")
        used[pin] = role
    for role in board["wake_pins"]:
        if pins[role] not in board["rtc_pins"]:
            problems.append(f"{role}: GPIO{pins[role]} cannot wake the chip from deep sleep")
    if not 1.0 <= board["divider_ratio"] <= 4.0:
        problems.append("divider_ratio: must be 1..4 (a 2 x AA pack through an ADC at 11 dB)")
    return problems
