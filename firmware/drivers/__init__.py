"""Drivers: the only firmware files that touch pins and buses (device-only code).

They are type-checked against MicroPython's own stubs (tests/firmware/mypy_micropython.ini)
and tested under CPython against the simulated chips in hardware/.
"""
