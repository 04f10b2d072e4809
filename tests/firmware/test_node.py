"""The firmware's wake cycle and MQTT client against a real Mosquitto (simulated hardware)."""

import random
import time
from pathlib import Path

import pytest

from firmware.core import reading
from firmware.core.policy import PolicyConfig
from firmware.net.mqtt import MQTTClient, MQTTError
from firmware.node import NetConfig, Node
from hardware.sim import SimHardware
from tests.firmware.listener import Listener
from tests.servers import Mosquitto
from tests.services import wait_for

CFG = reading.BinConfig("bin-fw", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")


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


def test_a_full_queue_drops_the_oldest_and_the_count_goes_out(
        tmp_path: Path, mosquitto: Mosquitto, listener: Listener) -> None:
    """With the broker away longer than the flash queue holds, the oldest readings are
    dropped; the first wake that gets through sends what is left and a retained status
    with the dropped total, once: the readings that arrived plus that total are all
    there ever were."""
    hw = SimHardware(random.Random(7))
    start = int(time.time() * 1000) - 2_000 * 60_000
    ticks = iter(range(10**9))
    policy = PolicyConfig(batch_size=1, heartbeat_s=10**7, change_dpct=10_000,
                          full_dpct=10_000, fire_dc=10_000, fire_rise_dc=10_000)
    # 27 bytes a record (24 + length and CRC): 40 records fit.
    node = Node(CFG, NetConfig("127.0.0.1", mosquitto.port, timeout_s=2.0,
                               queue_bytes=40 * 27), str(tmp_path), hw,
                lambda: (start + next(ticks) * 60_000, True), policy)
    mosquitto.stop()
    for _ in range(100):
        assert not node.wake()
    assert len(node.queue) == 40
    assert node.queue.dropped == 60
    mosquitto.start()
    wait_for(listener.client.is_connected, 30, "listener back")
    time.sleep(0.5)
    assert node.wake()
    # That wake's own reading pushed out one more: 61 dropped, the newest 40 sent.
    wait_for(lambda: len(listener.seqs()) >= 40 and listener.status, 30, "backlog and status")
    assert listener.seqs() == list(range(61, 101))
    assert listener.status == [b'{"state":"online","config":0,"dropped":61}']
    assert node.wake()
    wait_for(lambda: len(listener.seqs()) >= 41, 30, "the next reading")
    time.sleep(0.5)
    assert len(listener.status) == 1  # reported once, not on every wake
    rebooted = Node(CFG, NetConfig("127.0.0.1", mosquitto.port, queue_bytes=40 * 27),
                    str(tmp_path), hw, lambda: (start + next(ticks) * 60_000, True), policy)
    assert (rebooted.queue.dropped, rebooted.queue.reported) == (61, 61)  # kept in flash


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
