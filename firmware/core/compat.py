"""`const` for the firmware modules that run under both MicroPython and CPython.

MicroPython's compiler folds NAME = const(value) into the code that uses NAME, and
drops the global altogether when NAME starts with an underscore; on a board const is
never called, so one shared import is all it costs (a try/except in each module cost
about 200 bytes of heap apiece). CPython gets a function that returns its argument.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x: int) -> int:  # type: ignore[misc, unused-ignore]
        return x


__all__ = ["const"]
