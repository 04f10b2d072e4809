"""Serial intake over a real pseudo-terminal pair, through the gateway into VictoriaMetrics."""

import os
import select
import sqlite3
import time
import tty
from pathlib import Path

import pytest

from firmware.core import frame, payload, reading
from protocol import serial_frame
from protocol.errors import ProtocolError
from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import GatewayProcess, Ingest, wait_for

CFG = reading.BinConfig("wired-01", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")


def replies(fd: int, n: int, timeout_s: float = 30) -> list[bytes]:
    """Read n reply lines from the pty master."""
    buf = b""
    deadline = time.monotonic() + timeout_s
    while buf.count(b"\n") < n and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            buf += os.read(fd, 4096)
    return buf.splitlines()[:n]


def test_frames_in_acks_out_readings_stored(tmp_path: Path, mosquitto: Mosquitto,
                                            victoria: VictoriaMetrics) -> None:
    """Good frames are ACKed and stored; a bad CRC is NAKed; a bad payload is REJected
    and dead-lettered; a resent frame is ACKed again and stored once."""
    master, slave = os.openpty()
    tty.setraw(master)
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, ingest.url,
                        extra=f'serial_ports = ["{os.ttyname(slave)}"]\n')
    gw.start()
    now = int(time.time() * 1000)
    try:
        wait_for(lambda: "reading frames" in gw.log.read_text(), 30, "serial port open")
        bodies = [payload.encode_json(reading.make_reading(
            CFG, i, now - 10_000 + i, True, 600, 300_000, 3600, 200)) for i in range(20)]
        for body in bodies:
            os.write(master, frame.encode(body))
        got = replies(master, 20)
        assert got == [f"ACK wired-01 {i}".encode() for i in range(20)]

        damaged = frame.encode(bodies[0]).replace(b'"seq":0', b'"seq":9')
        os.write(master, damaged)
        assert replies(master, 1) == [b"NAK CRC mismatch"]

        bad = payload.encode_json(reading.make_reading(
            CFG, 99, now, True, 600, 300_000, 3600, 200)).replace(b'"v":1', b'"v":7')
        os.write(master, frame.encode(bad))
        assert replies(master, 1) == [b"REJ v"]

        os.write(master, frame.encode(bodies[5]))  # lost ACK: the bin sends it again
        assert replies(master, 1) == [b"ACK wired-01 5"]

        wait_for(lambda: len(victoria.points()) >= 20, 60, "serial readings stored")
        assert set(victoria.points()) == {("wired-01", now - 10_000 + i) for i in range(20)}
        with sqlite3.connect(gw.buffer_path) as db:
            rows = db.execute("SELECT topic, field FROM dead_letters").fetchall()
        assert rows == [(f"serial:{os.ttyname(slave)}", "v")]
        assert gw.report()["counters"]["serial_bad_frames"] == 1
    finally:
        gw.stop()
        ingest.stop()
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(("bad", "rule"), [
    (b"XX1 {} 0000\n", "start with"), (b"BF1 {} 00\n", "4-digit"),
    (b"BF1 {} ZZZZ\n", "not hex"), (b"BF1 {} 0000\n", "CRC mismatch"),
    (b"BF1 " + b"x" * 700 + b"\n", "longer than"),
])
def test_frame_decoder_rules(bad: bytes, rule: str) -> None:
    """Damaged frames are named as such; a good one gives its payload back."""
    assert serial_frame.decode(frame.encode(b'{"v":1}')) == b'{"v":1}'
    with pytest.raises(ProtocolError, match=rule):
        serial_frame.decode(bad)
