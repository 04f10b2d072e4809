"""A small MQTT 3.1.1 client for battery-powered bins: connect, subscribe, QoS 1 publish.

Chosen over micropython-lib's umqtt.simple, whose QoS 1 publish waits for the PUBACK
with no timeout and never resends: here every socket operation has a timeout, and a
publish that gets no PUBACK in time raises MQTTError so the caller keeps the reading in
its flash queue and retries on the next wake. The same code runs under MicroPython and
CPython (tests drive it against a real Mosquitto).

    c = MQTTClient("bin-0001", "10.0.0.2", 1883, timeout_s=5)
    c.connect(will=("bins/bin-0001/status", b"offline"))
    c.subscribe("bins/bin-0001/config")            # the retained config lands in c.inbox
    c.publish("bins/bin-0001/telemetry", body)     # returns once the broker acknowledged
    c.disconnect()                                 # clean: the broker drops the will

Messages the broker sends us (a retained config after subscribe) are collected in
`inbox` as (topic, payload) while we wait for our own acknowledgements. The broker
sends a subscription's retained messages right after its SUBACK and answers our
PUBLISHes in order, so a retained config arrives before the first PUBACK that follows.
"""

import socket
import struct

from firmware.core.compat import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_DISCONNECT = const(0xE0)


class MQTTError(Exception):
    """The broker refused, went silent, or broke the protocol."""


class MQTTRefused(MQTTError):
    """The broker answered, but refused a subscription (the connection is still good)."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _str(s: bytes) -> bytes:
    return struct.pack("!H", len(s)) + s


class MQTTClient:
    """One connection to a broker, used for one wake."""

    def __init__(self, client_id: str, host: str, port: int = 1883, keepalive_s: int = 60,
                 timeout_s: float = 5.0) -> None:
        self.client_id = client_id
        self.host = host
        self.port = port
        self.keepalive_s = keepalive_s
        self.timeout_s = timeout_s
        self._sock = None  # type: socket.socket | None
        self._pid = 0
        self.inbox = []  # type: list[tuple[str, bytes]]

    def _send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise MQTTError("not connected")
        view = memoryview(data)
        sent = 0
        while sent < len(data):
            n = sock.send(view[sent:])
            if not n:
                raise MQTTError("connection closed while sending")
            sent += n

    def _recv(self, n: int) -> bytes:
        sock = self._sock
        if sock is None:
            raise MQTTError("not connected")
        buf = b""
        while len(buf) < n:
            try:
                chunk = sock.recv(n - len(buf))
            except OSError as e:
                raise MQTTError("no answer from broker: " + str(e)) from e
            if not chunk:
                raise MQTTError("connection closed by broker")
            buf += chunk
        return buf

    def _read_packet(self) -> tuple[int, bytes]:
        kind = self._recv(1)[0]
        length = 0
        shift = 0
        while True:
            b = self._recv(1)[0]
            length |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 21:
                raise MQTTError("malformed remaining length")
        return kind, self._recv(length) if length else b""

    def connect(self, clean: bool = True, will: tuple[str, bytes] | None = None,
                will_retain: bool = True) -> None:
        """Open the connection; will is (topic, message), sent by the broker if we vanish."""
        addr = socket.getaddrinfo(self.host, self.port)[0][-1]
        sock = socket.socket()
        sock.settimeout(self.timeout_s)
        try:
            sock.connect(addr)
        except OSError as e:
            sock.close()
            raise MQTTError("cannot reach broker: " + str(e)) from e
        self._sock = sock
        flags = 0x02 if clean else 0
        payload = _str(self.client_id.encode())
        if will is not None:
            flags |= 0x04 | 0x08  # will flag, will QoS 1
            if will_retain:
                flags |= 0x20
            payload += _str(will[0].encode()) + _str(will[1])
        variable = _str(b"MQTT") + bytes([4, flags]) + struct.pack("!H", self.keepalive_s)
        body = variable + payload
        try:
            self._send(bytes([_CONNECT]) + _varint(len(body)) + body)
            kind, data = self._read_packet()
        except MQTTError:
            self.close()
            raise
        if kind != _CONNACK or len(data) != 2 or data[1] != 0:
            self.close()
            raise MQTTError("connection refused, CONNACK " + repr(data))

    def _next_pid(self) -> int:
        self._pid = self._pid % 65535 + 1
        return self._pid

    def _wait_for(self, ack: int, pid: int) -> bytes:
        """Read packets until the ack for pid; incoming messages go to the inbox."""
        while True:
            kind, data = self._read_packet()
            if kind & 0xF0 == _PUBLISH:
                self._incoming(kind, data)
            elif kind & 0xF0 == ack and len(data) >= 2 and \
                    struct.unpack("!H", data[:2])[0] == pid:
                return data[2:]
            # Anything else (a stale PUBACK) is not ours to wait for; keep reading
            # until our ack or the timeout.

    def _incoming(self, kind: int, data: bytes) -> None:
        if len(data) < 2:
            raise MQTTError("malformed PUBLISH from broker")
        n = struct.unpack("!H", data[:2])[0]
        topic = data[2:2 + n].decode()
        rest = data[2 + n:]
        qos = (kind >> 1) & 0x03
        if qos:
            pid = rest[:2]
            rest = rest[2:]
            self._send(bytes([_PUBACK, 2]) + pid)  # QoS 2 is never subscribed to
        self.inbox.append((topic, bytes(rest)))

    def subscribe(self, topic: str, qos: int = 0) -> None:
        """Subscribe and return once the broker's SUBACK granted it."""
        pid = self._next_pid()
        body = struct.pack("!H", pid) + _str(topic.encode()) + bytes([qos])
        self._send(bytes([_SUBSCRIBE]) + _varint(len(body)) + body)
        granted = self._wait_for(_SUBACK, pid)
        if not granted or granted[0] & 0x80:
            raise MQTTRefused("subscription refused: " + topic)

    def publish(self, topic: str, message: bytes, retain: bool = False) -> None:
        """Publish with QoS 1 and return once the broker's PUBACK arrived."""
        pid = self._next_pid()
        body = _str(topic.encode()) + struct.pack("!H", pid) + message
        header = _PUBLISH | 0x02 | (0x01 if retain else 0)
        self._send(bytes([header]) + _varint(len(body)) + body)
        self._wait_for(_PUBACK, pid)

    def disconnect(self) -> None:
        """Say goodbye cleanly (the broker drops the will) and close."""
        if self._sock is not None:
            try:
                self._send(bytes([_DISCONNECT, 0]))
            except (MQTTError, OSError):
                pass
        self.close()

    def close(self) -> None:
        """Close the socket without a DISCONNECT (the broker will send the will)."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
