"""The firmware's wake cycle and MQTT client against a real Mosquitto (simulated hardware)."""

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware.core import reading
from firmware.core.policy import PolicyConfig
from firmware.net.mqtt import MQTTClient, MQTTError
from firmware.node import NetConfig, Node
from hardware.sim import SimHardware
from protocol import binary
from tests.servers import Mosquitto
from tests.services import wait_for

CFG = reading.BinConfig("bin-fw", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")


class Listener:
    """A persistent-session subscriber that records every telemetry message in order."""

    def __init__(self, port: int) -> None:
        self.messages: list[bytes] = []
        self.status: list[bytes] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id="fw-listener", clean_session=False)
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe(
            [("bins/+/telemetry", 1), ("bins/+/status", 1)])
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        (self.status if m.topic.endswith("/status") else self.messages).append(m.payload)

    def seqs(self) -> list[int]:
        """Sequence numbers of every reading received, in arrival order."""
        now = int(time.time() * 1000) + 3_600_000
        return [r.seq for m in self.messages for r in binary.decode(m, "bin-fw", now)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def listener(mosquitto: Mosquitto) -> Iterator[Listener]:
    """Subscribed before the node publishes anything."""
    lst = Listener(mosquitto.port)
    assert lst.subscribed.wait(10)
    yield lst
    lst.close()


def make_node(tmp_path: Path, port: int, batch_size: int) -> Node:
    """A node with simulated hardware and a simulated clock (one reading a minute)."""
    hw = SimHardware(random.Random(7))
    start = int(time.time() * 1000) - 2_000 * 60_000
    ticks = iter(range(10**9))
    # Thresholds out of reach so only batching (and the first-wake heartbeat) decide.
    policy = PolicyConfig(batch_size=batch_size, heartbeat_s=10**7, change_dpct=10_000,
                          full_dpct=10_000, fire_dc=10_000, fire_rise_dc=10_000)
    return Node(CFG, NetConfig("127.0.0.1", port, timeout_s=2.0), str(tmp_path), hw,
                lambda: (start + next(ticks) * 60_000, True), policy)


def test_broker_down_for_1000_wakes_then_back(tmp_path: Path, mosquitto: Mosquitto,
                                             listener: Listener) -> None:
    """Every reading arrives once and in order after the broker was away for 1,000 wakes."""
    node = make_node(tmp_path, mosquitto.port, batch_size=1)
    for _ in range(5):
        assert node.wake()
    wait_for(lambda: listener.seqs() == list(range(5)), 30, "first readings")
    mosquitto.stop()
    for _ in range(1000):
        assert not node.wake()  # fails fast and goes back to sleep
    assert len(node.queue) == 1000
    assert node.failed_sends == 1000
    mosquitto.start()
    wait_for(listener.client.is_connected, 30, "listener back")
    time.sleep(0.5)
    assert node.wake()
    assert len(node.queue) == 0
    wait_for(lambda: len(listener.seqs()) >= 1006, 60, "backlog delivered")
    assert listener.seqs() == list(range(1006))
    # 1,001 readings left the queue in ceil(1001 / 20) = 51 messages, not 1,001.
    assert len(listener.messages) == 5 + 51


def test_a_reboot_mid_backlog_resends_nothing_twice_in_the_queue(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """The queue and sequence survive a reboot: a new Node on the same flash continues."""
    node = make_node(tmp_path, mosquitto.port, batch_size=10)
    for _ in range(7):
        node.wake()
    assert len(node.queue) == 6  # the first wake after boot reports at once (heartbeat)
    rebooted = make_node(tmp_path, mosquitto.port, batch_size=1)
    assert rebooted.wake()
    wait_for(lambda: len(listener.seqs()) >= 8, 30, "readings")
    time.sleep(0.5)  # anything sent twice would have arrived by now
    # Every queued reading exactly once, in order; the reboot skipped the rest of the
    # sequence lease (64) and never reused a number.
    assert listener.seqs() == [*range(7), 64]


def test_client_will_and_timeouts(mosquitto: Mosquitto, listener: Listener) -> None:
    """A vanished client's will is published; a closed port fails fast with MQTTError."""
    c = MQTTClient("bin-fw", "127.0.0.1", mosquitto.port, keepalive_s=2, timeout_s=2)
    c.connect(will=("bins/bin-fw/status", b"offline"))
    c.publish("bins/bin-fw/status", b"online", retain=True)
    c.close()  # no DISCONNECT: the broker sends the will
    wait_for(lambda: listener.status[-2:] == [b"online", b"offline"], 30, "online then will")
    mosquitto.stop()
    with pytest.raises(MQTTError, match="cannot reach broker"):
        MQTTClient("bin-fw", "127.0.0.1", mosquitto.port, timeout_s=2).connect()
