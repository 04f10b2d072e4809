"""Lid reed switch and tilt switch: a contact to ground on a pulled-up input.

The lid pin is also the deep-sleep wake source (ext0, an RTC GPIO), set up in main.py.

    lid = Switch(Pin(4, Pin.IN, Pin.PULL_UP))
    if lid.closed(): ...
"""

# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from machine import Pin


class Switch:
    """A contact read through a pin, debounced by a few reads."""

    def __init__(self, pin: "Pin", active_low: bool = True, reads: int = 3) -> None:
        self.pin = pin
        self.active_low = active_low
        self.reads = reads

    def closed(self) -> bool:
        """True if the contact is closed on a majority of reads."""
        active = 0 if self.active_low else 1
        hits = 0
        for _ in range(self.reads):
            if self.pin.value() == active:
                hits += 1
        return hits * 2 > self.reads
