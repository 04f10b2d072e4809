"""Free TCP ports on loopback, outside the kernel's ephemeral range.

A port from bind(("127.0.0.1", 0)) lies in the ephemeral range, which outgoing
connections draw their local ports from. A server stopped and started again on such a
port can find it taken by some client's connection in between ("Address already in
use"; seen once in a broker-restart test). Ports below the range are never handed out
that way, so a restarted server gets its port back.
"""

import random
import socket

_LOW = 10_000


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    start = _ephemeral_start()
    if start > _LOW + 1000:
        for _ in range(200):
            port = random.randrange(_LOW, start)
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
