"""Remote config on the retained bins/{id}/config topic: checked, saved, reported.

Unit tests of firmware/core/remote.py (its MicroPython run is compared with CPython's in
test_build via vectors.py), then the whole path against real servers: a firmware node
takes a retained config from Mosquitto, and its status reaches cloud_ingest's fleet
state through a gateway.
"""

import json
import random
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware.core import reading, remote
from firmware.core.remote import RemoteConfig
from firmware.core.remotecheck import ConfigError, check
from firmware.node import NetConfig, Node
from hardware.sim import SimHardware
from protocol import status
from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import pipeline, wait_for

CFG = reading.BinConfig("bin-rc", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")


@pytest.mark.parametrize(("body", "field"), [
    (b"{", "config"),
    (b"[]", "config"),
    (b'{"interval_s": 600}', "version"),
    (b'{"version": 0}', "version"),
    (b'{"version": 2, "interval_s": 59}', "interval_s"),
    (b'{"version": 2, "interval_s": 600.0}', "interval_s"),
    (b'{"version": 2, "interval_s": true}', "interval_s"),
    (b'{"version": 2, "wifi_pass": "x"}', "wifi_pass"),
    (b'{"version": 2, "heartbeat_s": 600, "interval_s": 900}', "heartbeat_s"),
    (b'{"version": 2, "near_full_dpct": 900, "full_dpct": 850}', "near_full_dpct"),
    (b'{"version": 2, "samples": 16}', "samples"),
    (b'{"version": 2}' + b" " * 1100, "config"),
])
def test_bad_config_names_the_field(body: bytes, field: str) -> None:
    """Each refusal says which field and why."""
    with pytest.raises(ConfigError) as e:
        check(body)
    assert e.value.field == field
    assert str(e.value).startswith(field + ": ")


def test_refused_config_keeps_the_old_one_and_is_reported_once(tmp_path: Path) -> None:
    """A bad config leaves v2 in force; the same bad config again is not re-reported,
    and that holds across a reboot (the refusal is saved with the config)."""
    path = str(tmp_path / "remote.json")
    rc = RemoteConfig(path)
    assert rc.offer(b'{"version": 2, "interval_s": 600}') == (
        True, b'{"state":"online","config":2}')
    applied, msg = rc.offer(b'{"version": 3, "interval_s": 5}')
    assert not applied
    assert json.loads(msg or b"") == {"state": "online", "config": 2,
                                      "config_error": "v3 interval_s: must be 60..86400"}
    assert rc.policy().interval_s == 600
    assert rc.offer(b'{"version": 3, "interval_s": 5}') == (False, None)
    rebooted = RemoteConfig(path)
    assert (rebooted.version, rebooted.policy().interval_s) == (2, 600)
    assert rebooted.offer(b'{"version": 3, "interval_s": 5}') == (False, None)
    assert rebooted.offer(b'{"version": 2, "interval_s": 600}') == (False, None)
    applied, msg = rebooted.offer(b'{"version": 1, "interval_s": 900}')
    assert not applied
    assert b"older than the applied 2" in (msg or b"")


def test_damaged_config_file_falls_back_to_defaults(tmp_path: Path) -> None:
    """A garbled file (it is ours, so this means flash damage) runs on defaults, not crash."""
    path = tmp_path / "remote.json"
    path.write_text('{"config": {"version": 4, "interval_s": 3}}')
    rc = RemoteConfig(str(path))
    assert rc.version == 0
    assert rc.policy().interval_s == 900


def test_status_message_is_what_the_gateway_decodes() -> None:
    """The firmware's status JSON decodes with protocol.status, config fields and all."""
    rc_msg = b'{"state":"online","config":6,"config_error":"v7 colour: unknown key"}'
    e = status.decode("bin-rc", rc_msg, 5)
    assert (e.status, e.config_version, e.config_error) == ("online", 6,
                                                             "v7 colour: unknown key")
    assert status.validate(e.to_wire()) == e
    assert status.decode("bin-rc", b"offline", 5).config_version is None
    full = status.decode("bin-rc", remote.status_message(6, "v7 colour: unknown key", 40), 5)
    assert (full.config_version, full.config_error, full.dropped) == (
        6, "v7 colour: unknown key", 40)
    assert status.decode("bin-rc", remote.status_message(6), 5).dropped is None


def publish_retained(port: int, topic: str, payload: bytes) -> None:
    """Publish a retained message with QoS 1 and wait for the broker to take it."""
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="ops")
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        info = c.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout=30)
        assert info.is_published()
    finally:
        c.loop_stop()
        c.disconnect()


def bin_entry(url: str) -> dict[str, object]:
    """cloud_ingest's live state for bin-rc ({} until it exists)."""
    bins = httpx.get(f"{url}/api/v1/bins", timeout=10).json()
    return next((b for b in bins if b["bin_id"] == "bin-rc"), {})


def test_remote_config_end_to_end(tmp_path: Path, mosquitto: Mosquitto,
                                  victoria: VictoriaMetrics) -> None:
    """A retained config reaches the node on its next sending wake, changes its
    interval, survives a reboot, and its version shows in cloud_ingest; a bad one is
    refused, the old one stays, and the reason shows in cloud_ingest."""
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)
    start = int(time.time() * 1000) - 1_000 * 60_000
    ticks = iter(range(10**6))

    def node() -> Node:
        return Node(CFG, NetConfig("127.0.0.1", mosquitto.port, timeout_s=5.0),
                    str(tmp_path), SimHardware(random.Random(3)),
                    lambda: (start + next(ticks) * 60_000, True),
                    remote=RemoteConfig(str(tmp_path / "remote.json")))

    try:
        topic = "bins/bin-rc/config"
        publish_retained(mosquitto.port, topic, json.dumps(
            {"version": 2, "interval_s": 600, "min_interval_s": 300, "batch_size": 1}).encode())
        n = node()
        assert n.policy.cfg.interval_s == 900  # defaults until the config arrives
        assert n.wake()  # first wake sends (heartbeat), and takes the config
        assert (n.policy.cfg.interval_s, n.policy.cfg.batch_size) == (600, 1)
        wait_for(lambda: bin_entry(ingest.url).get("config_version") == 2, 60, "config v2")
        assert bin_entry(ingest.url)["config_error"] is None

        publish_retained(mosquitto.port, topic, b'{"version": 3, "interval_s": 600, "lid": 1}')
        rebooted = node()
        assert rebooted.policy.cfg.batch_size == 1  # v2, from flash
        assert rebooted.wake()
        assert rebooted.remote is not None
        assert rebooted.remote.version == 2
        wait_for(lambda: bin_entry(ingest.url).get("config_error") == "v3 lid: unknown key",
                 60, "refusal")
        assert bin_entry(ingest.url)["config_version"] == 2

        publish_retained(mosquitto.port, topic, b'{"version": 4, "interval_s": 1200}')
        assert rebooted.wake()
        assert rebooted.policy.cfg.interval_s == 1200
        wait_for(lambda: bin_entry(ingest.url).get("config_version") == 4, 60, "config v4")
        assert bin_entry(ingest.url)["config_error"] is None
    finally:
        gw.stop()
        ingest.stop()


def test_a_refused_config_subscription_does_not_stop_telemetry(tmp_path: Path) -> None:
    """A broker whose ACL forbids the config topic: the node still delivers its
    readings (Mosquitto grants such a subscription and delivers nothing on it)."""
    from tests.servers import Mosquitto

    acl = tmp_path / "acl"
    acl.write_text("pattern write bins/%c/telemetry\npattern write bins/%c/status\n"
                   "topic deny bins/+/config\n")
    broker = Mosquitto(tmp_path / "mosquitto", extra_conf=f"acl_file {acl}\n")
    broker.start()
    try:
        n = Node(CFG, NetConfig("127.0.0.1", broker.port, timeout_s=5.0), str(tmp_path),
                 SimHardware(random.Random(3)),
                 lambda: (int(time.time() * 1000), True),
                 remote=RemoteConfig(str(tmp_path / "remote.json")))
        assert n.wake()  # Mosquitto grants the subscription and filters what it delivers
        assert n.sent == 1
        assert len(n.queue) == 0
    finally:
        broker.kill()


def test_suback_refusal_is_not_fatal(tmp_path: Path) -> None:
    """Brokers that refuse a subscription with SUBACK 0x80 (EMQX, HiveMQ do; Mosquitto
    filters instead): a scripted broker on a socket refuses it, and the node goes on
    to publish its readings over the same connection."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    published: list[bytes] = []

    def broker() -> None:
        conn, _ = listener.accept()
        with conn:
            buf = b""

            def packet() -> tuple[int, bytes]:
                nonlocal buf
                while True:
                    if len(buf) >= 2:
                        length, shift, i = 0, 0, 1
                        while True:
                            length |= (buf[i] & 0x7F) << shift
                            if not buf[i] & 0x80:
                                break
                            i += 1
                            shift += 7
                        if len(buf) >= i + 1 + length:
                            kind, body = buf[0], buf[i + 1:i + 1 + length]
                            buf = buf[i + 1 + length:]
                            return kind, body
                    chunk = conn.recv(4096)
                    if not chunk:
                        return 0, b""
                    buf += chunk

            while True:
                kind, body = packet()
                if kind == 0:
                    return
                if kind & 0xF0 == 0x10:
                    conn.sendall(b"\x20\x02\x00\x00")  # CONNACK accepted
                elif kind & 0xF0 == 0x80:
                    conn.sendall(b"\x90\x03" + body[:2] + b"\x80")  # SUBACK: refused
                elif kind & 0xF0 == 0x30:
                    n = int.from_bytes(body[:2], "big")
                    pid = body[2 + n:4 + n]
                    published.append(body[4 + n:])
                    conn.sendall(b"\x40\x02" + pid)  # PUBACK
                elif kind & 0xF0 == 0xE0:
                    return

    t = threading.Thread(target=broker, daemon=True)
    t.start()
    n = Node(CFG, NetConfig("127.0.0.1", port, timeout_s=5.0), str(tmp_path),
             SimHardware(random.Random(3)), lambda: (int(time.time() * 1000), True),
             remote=RemoteConfig(str(tmp_path / "remote.json")))
    assert n.wake()
    t.join(10)
    listener.close()
    assert n.config_refused
    assert n.sent == 1
    assert len(published) == 1
