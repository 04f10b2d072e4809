"""The provisioning window on the USB serial port (the REPL's UART).

Lines from `binfleet provision` go to the firmware's handler (firmware/provision.py)
and its replies come back, until window_ms pass without a line (each line restarts the
window). The watchdog is fed while it waits.
"""

import select
import sys
import time


def serve(prov: object, window_ms: int, feed: object) -> None:
    """Answer provisioning lines until the window closes."""
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    last = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), last) < window_ms:
        feed()  # type: ignore[operator]
        if not poller.poll(200):
            continue
        line = sys.stdin.readline()
        if line.strip():
            sys.stdout.write(prov.handle(line) + "\n")  # type: ignore[attr-defined]
        last = time.ticks_ms()
