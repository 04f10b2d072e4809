"""`const` for the firmware modules that run under both MicroPython and CPython.

MicroPython's compiler folds NAME = const(value) into the code that uses NAME, and
drops the global altogether when NAME starts with an underscore. CPython gets a
function that returns its argument; keeping that fallback here spares each module its
own try/except.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x: int) -> int:  # type: ignore[misc, unused-ignore]
        return x


__all__ = ["const"]
