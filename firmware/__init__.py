"""BinFleet bin-controller firmware (MicroPython first; also imports under CPython)."""
