"""`binfleet provision`: set up and calibrate a bin over its serial port (pyserial).

    binfleet provision --port /dev/ttyUSB0 --set bin_id=bin-0042 --set depth_mm=1100 \\
        --tare                 # scale empty
    binfleet provision --port /dev/ttyUSB0 --cal 10000 --save    # 10 kg on the scale

Each step is sent as one command line (firmware/provision.py); the device's reply is
printed. Any ERR stops the run with exit code 1.
"""

import serial

# How long to wait for the device's reply to one command (tare and calibration sample).
REPLY_TIMEOUT_S = 10.0


class ProvisionError(Exception):
    """The device answered ERR, or did not answer."""


def steps(sets: list[str], tare: bool, cal_grams: int | None, save: bool) -> list[str]:
    """Command lines for the requested steps, in a safe order."""
    out = ["GET"]
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ProvisionError(f"--set {item}: expected key=value")
        out.append(f"SET {key} {value}")
    if tare:
        out.append("TARE")
    if cal_grams is not None:
        out.append(f"CAL {cal_grams}")
    if save:
        out.append("SAVE")
    return out


def run(port: str, commands: list[str], baud: int = 115200) -> list[str]:
    """Send commands, return the replies; raise ProvisionError at the first ERR."""
    replies = []
    with serial.serial_for_url(port, baudrate=baud, timeout=REPLY_TIMEOUT_S) as conn:
        for command in commands:
            conn.write((command + "\n").encode())
            reply = conn.readline().decode(errors="replace").strip()
            if not reply:
                raise ProvisionError(f"{command}: no answer within {REPLY_TIMEOUT_S:g} s")
            replies.append(reply)
            if reply.startswith("ERR"):
                raise ProvisionError(f"{command}: {reply}")
    return replies
