"""Serial frame for bins wired over UART/RS-485: one v1 payload per line, with a CRC.

    BF1 <v1 JSON> <CRC-16/CCITT-FALSE of the JSON, 4 hex digits>\\n

The gateway answers each frame with one line:
    ACK <bin> <seq>      committed (or already had it): drop it from the flash queue
    REJ <field>          committed as a dead letter: drop it, it will never pass
    NAK <reason>         frame damaged or gateway busy: send it again

    >>> from firmware.core import frame
    >>> frame.encode(b'{"v":1}')
    b'BF1 {"v":1} 1117\\n'
"""

from firmware.core.crc import crc16

PREFIX = b"BF1 "
MAX_LINE = 600


def _hex4(n: int) -> bytes:
    digits = "0123456789ABCDEF"
    return (digits[(n >> 12) & 15] + digits[(n >> 8) & 15] + digits[(n >> 4) & 15]
            + digits[n & 15]).encode()


def encode(payload: bytes) -> bytes:
    """Frame one payload (which must not contain a newline)."""
    return PREFIX + payload + b" " + _hex4(crc16(payload)) + b"\n"


def parse_reply(line: bytes) -> tuple[bytes, bytes]:
    """Split a gateway reply into (kind, rest): kind is b"ACK", b"REJ" or b"NAK"."""
    line = line.strip()
    space = line.find(b" ")
    if space < 0:
        return line, b""
    return line[:space], line[space + 1:]
