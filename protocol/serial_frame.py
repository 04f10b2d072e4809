"""Decode the serial frame (firmware/core/frame.py is the reference encoder)."""

from firmware.core import frame as fw_frame
from firmware.core.crc import crc16
from protocol.errors import ProtocolError

MAX_LINE = fw_frame.MAX_LINE


def decode(line: bytes) -> bytes:
    """Return the v1 payload a frame line carries; ProtocolError("frame", ...) if damaged."""
    line = line.rstrip(b"\r\n")
    if len(line) > MAX_LINE:
        raise ProtocolError("frame", f"longer than {MAX_LINE} bytes", len(line))
    if not line.startswith(fw_frame.PREFIX):
        raise ProtocolError("frame", "must start with 'BF1 '", line[:8])
    body = line[len(fw_frame.PREFIX):]
    payload, _, crc_text = body.rpartition(b" ")
    if len(crc_text) != 4:
        raise ProtocolError("frame", "must end with a 4-digit hex CRC", crc_text[:8])
    try:
        crc = int(crc_text, 16)
    except ValueError:
        raise ProtocolError("frame", "CRC is not hex", crc_text) from None
    if crc16(payload) != crc:
        raise ProtocolError("frame", "CRC mismatch")
    return payload
