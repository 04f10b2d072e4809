"""The shape of a board definition."""

from typing import TypedDict


class Board(TypedDict):
    """Pins and analogue front end of one controller board."""

    name: str
    pins: dict[str, int | None]  # role -> GPIO; None where the board leaves it out
    adc1_pins: tuple[int, ...]
    rtc_pins: tuple[int, ...]
    forbidden_pins: tuple[int, ...]
    wake_pins: tuple[str, ...]
    adc_atten_db: int
    divider_ratio: float
