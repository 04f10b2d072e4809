"""Portable core: plain functions and small classes over plain data, no I/O beyond a
file path, no `machine`. Runs on the device, in MicroPython WebAssembly and in CPython."""
