"""The gateway against real Mosquitto, cloud_ingest and VictoriaMetrics, under faults.

The oracle is the store: every reading the broker acknowledged to a publisher is in
VictoriaMetrics exactly once; every bad message is a dead letter with its reason.
"""

import errno
import json
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware.core import binary, reading
from gateway.buffer import Accepted, Buffer
from hardware.sim import SimFleet
from tests.faultproxy import FaultProxy
from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import GatewayProcess, Ingest, pipeline, wait_for

# Readings per bin in the kill test: long enough that both kills land mid-stream.
PER_BIN = 1000


def publish_raw(port: int, items: list[tuple[str, bytes]]) -> None:
    """Publish (topic, payload) pairs with QoS 1 and wait for every PUBACK."""
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="raw-pub")
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        infos = [c.publish(topic, payload, qos=1) for topic, payload in items]
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published()
    finally:
        c.loop_stop()
        c.disconnect()


def good(bin_id: str, seq: int, ts_ms: int) -> bytes:
    """A valid v1 payload."""
    return json.dumps({"v": 1, "bin": bin_id, "seq": seq, "ts_ms": ts_ms, "fill_pct": 10.0,
                       "distance_mm": 900, "weight_kg": 1.5, "battery_mv": 3500, "temp_c": 20.0,
                       "quality": 4, "flags": 0, "fw": "0.1.0"}).encode()


def dead_letters(path: Path) -> list[tuple[str, str, str]]:
    """(topic, field, reason) of every dead letter in a gateway buffer."""
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT topic, field, reason FROM dead_letters ORDER BY id"))


def test_bad_messages_are_dead_lettered_and_good_ones_stored(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """A corpus of bad input interleaved with good: all good stored, each bad one explained."""
    now = int(time.time() * 1000)
    bad: list[tuple[str, bytes, str]] = [
        ("bins/bin-x/telemetry", b"{not json", "payload"),
        ("bins/bin-x/telemetry", good("bin-x", 1, now).replace(b'"seq": 1', b'"seq": "1"'), "seq"),
        ("bins/bin-x/telemetry", good("bin-x", 2, now).replace(b"10.0", b"NaN"), "payload"),
        ("bins/bin-x/telemetry", good("bin-x", 3, now).replace(b"1.5", b"-1.5"), "weight_kg"),
        ("bins/bin-x/telemetry", good("bin-x", 4, now).replace(b"10.0", b"100.5"), "fill_pct"),
        ("bins/bin-x/telemetry", b"{" + b" " * 1_000_000 + b"}", "payload"),
        ("bins/bin-x/telemetry", good("bin-y", 5, now), "bin"),
        ("bins/bin-x/telemetry", good("bin-x", 6, now).replace(b'"v": 1', b'"v": 9'), "v"),
        ("bins/bin-x/telemetry", b"", "payload"),
    ]
    items: list[tuple[str, bytes]] = []
    expected = set()
    for i in range(60):
        items.append(("bins/bin-g/telemetry", good("bin-g", i, now - 60_000 + i)))
        expected.add(("bin-g", now - 60_000 + i))
        if i % 6 == 0 and i // 6 < len(bad):
            topic, payload, _ = bad[i // 6]
            items.append((topic, payload))
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)
    try:
        publish_raw(mosquitto.port, items)
        wait_for(lambda: len(victoria.points()) >= 60, 60, "good readings stored")
        wait_for(lambda: len(dead_letters(gw.buffer_path)) >= len(bad), 30, "dead letters")
        assert set(victoria.points()) == expected
        letters = dead_letters(gw.buffer_path)
        assert [f for _, f, _ in letters] == [f for _, _, f in bad]
        for _, field, reason in letters:
            assert reason.startswith(f"{field}: ")
        counters = gw.report()["counters"]
        assert counters["rejected.payload"] == 4
        assert counters["committed"] == 60
        metrics = gw.metrics()
        assert 'binfleet_gateway_rejected_total{field="payload"} 4.0' in metrics
        assert 'binfleet_gateway_rejected_total{field="weight_kg"} 1.0' in metrics
        assert "binfleet_gateway_committed_total 60.0" in metrics
    finally:
        gw.stop()
        ingest.stop()


def test_ingest_down_then_back_loses_nothing_and_doubles_nothing(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """cloud_ingest is down while readings arrive; they wait in the buffer, then all land once."""
    # cloud_ingest's port is reserved but nothing listens yet.
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url, start_ingest=False)
    try:
        fleet = SimFleet(10, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
        published = fleet.run(1000, interval_s=0)
        assert len(published) == 10_000
        wait_for(lambda: gw.report().get("depth") == len(published), 60, "all buffered")
        assert gw.report()["counters"].get("forward_errors", 0) > 0
        gw.stop()  # restarted with a full buffer: it forwards what it holds
        gw.start()
        metrics = gw.metrics()
        assert "binfleet_gateway_buffer_depth 10000.0" in metrics
        age = re.search(r"^binfleet_gateway_buffer_oldest_age_seconds (\S+)$", metrics, re.M)
        assert age is not None
        assert float(age.group(1)) > 0
        ingest.start()
        wait_for(lambda: gw.report().get("depth") == 0, 90, "buffer drained")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
        stats = httpx.get(f"{ingest.url}/api/v1/stats", timeout=10).json()
        assert stats["readings"] == len(published)  # nothing forwarded twice
        # Oldest first: the forwarder sends in buffer order, so each bin's readings
        # reached the fleet state in sequence (the state ends at each bin's last reading).
        state = httpx.get(f"{ingest.url}/api/v1/bins", timeout=10).json()
        assert all(b["seq"] == 999 and b["readings"] == 1000 for b in state)
    finally:
        gw.stop()
        ingest.stop()


def test_kill_9_during_stream_loses_nothing(tmp_path: Path, mosquitto: Mosquitto,
                                            victoria: VictoriaMetrics) -> None:
    """20,000 readings; the gateway is SIGKILLed three times mid-stream; every one lands once."""
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)
    fleet = SimFleet(20, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    result: list[object] = []
    runner = threading.Thread(target=lambda: result.append(fleet.run(PER_BIN, interval_s=0)))
    runner.start()
    killed_at: list[int] = []
    try:
        for share in (0.20, 0.45, 0.70):  # kill at points in the stream, not on a timer
            wait_for(lambda s=share: len(fleet.published) >= s * 20 * PER_BIN, 60,
                     f"{share:.0%} published")
            gw.kill()
            killed_at.append(len(fleet.published))
            time.sleep(0.5)
            gw.start(wait_subscribed=True)
        runner.join(timeout=120)
        # Every kill hit while bins were still publishing, or the test proves nothing.
        assert killed_at[-1] < 20 * PER_BIN, killed_at
        published = fleet.published
        assert len(published) == 20 * PER_BIN
        wait_for(lambda: len(victoria.points()) >= len(published), 120, "all readings stored")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
    finally:
        fleet.stop()
        gw.stop()
        ingest.stop()


def test_duplicates_after_forwarding_and_restart_are_dropped(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """The same readings published again after a gateway restart are counted, not forwarded."""
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)
    now = int(time.time() * 1000)
    items = [("bins/bin-d/telemetry", good("bin-d", i, now - 1000 + i)) for i in range(200)]
    try:
        publish_raw(mosquitto.port, items)
        wait_for(lambda: len(victoria.points()) == 200, 60, "first delivery stored")
        gw.stop()
        gw.start()
        publish_raw(mosquitto.port, items)
        wait_for(lambda: gw.report().get("counters", {}).get("duplicates") == 200, 60,
                 "duplicates counted")
        time.sleep(1.0)
        stats = httpx.get(f"{ingest.url}/api/v1/stats", timeout=10).json()
        assert stats["readings"] == 200
        assert len(victoria.points()) == 200
    finally:
        gw.stop()
        ingest.stop()


def test_broker_restart_mid_stream(tmp_path: Path, mosquitto: Mosquitto,
                                   victoria: VictoriaMetrics) -> None:
    """Mosquitto is restarted while bins publish: every acknowledged reading lands once."""
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)
    fleet = SimFleet(10, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    runner = threading.Thread(target=fleet.run, args=(1000, 0))
    runner.start()
    try:
        wait_for(lambda: len(fleet.published) > 500, 30, "publishing")
        mosquitto.stop()
        at_restart = len(fleet.published)
        time.sleep(1.0)
        mosquitto.start()
        runner.join(timeout=240)
        assert at_restart < 10 * 1000
        published = fleet.published
        assert len(published) == 10 * 1000
        wait_for(lambda: len(victoria.points()) >= len(published), 120, "all readings stored")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
    finally:
        fleet.stop()
        gw.stop()
        ingest.stop()


def test_more_than_1000_queued_while_gateway_is_down(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """5,000 readings arrive while the gateway is stopped; the broker keeps them all for it.

    Mosquitto's default max_queued_messages (1000) would drop 4,000 of them silently;
    deploy/mosquitto/binfleet.conf raises it.
    """
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, ingest.url)
    gw.start()  # creates the persistent session
    gw.stop()
    try:
        fleet = SimFleet(10, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
        published = fleet.run(500, interval_s=0)
        gw.start()
        wait_for(lambda: len(victoria.points()) >= len(published), 120, "backlog stored")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
    finally:
        gw.stop()
        ingest.stop()


def test_full_buffer_stops_acknowledging_and_recovers(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """At max_buffer_rows the gateway holds back PUBACKs; nothing is dropped; all lands later."""
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url, start_ingest=False,
                          gw_extra="max_buffer_rows = 300\n")  # cloud_ingest down at first
    try:
        fleet = SimFleet(5, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
        published = fleet.run(200, interval_s=0)  # the broker acknowledges; it queues for us
        wait_for(lambda: gw.report().get("counters", {}).get("backpressure_waits", 0) > 0, 30,
                 "backpressure")
        report = gw.report()
        assert report["depth"] < len(published)
        assert report["counters"]["acknowledged"] < len(published)
        ingest.start()
        wait_for(lambda: len(victoria.points()) >= len(published), 120, "all stored")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
    finally:
        gw.stop()
        ingest.stop()


def test_two_gateways_on_a_shared_subscription_one_killed(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """MQTT 5 shared subscription: two gateways split the load; one is SIGKILLed mid-stream
    and restarted with its id, and every reading lands exactly once."""
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    shared = 'mqtt_protocol = "5"\nshared_group = "gw"\nsession_expiry_s = 300\n'
    a = GatewayProcess(tmp_path / "a", mosquitto.url, ingest.url, gateway_id="a", extra=shared)
    b = GatewayProcess(tmp_path / "b", mosquitto.url, ingest.url, gateway_id="b", extra=shared)
    a.start()
    b.start()
    fleet = SimFleet(10, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    runner = threading.Thread(target=fleet.run, args=(1000, 0))
    runner.start()
    try:
        wait_for(lambda: len(fleet.published) > 2000, 30, "publishing")
        a.kill()
        at_kill = len(fleet.published)
        time.sleep(0.5)
        a.start()
        runner.join(timeout=240)
        assert at_kill < 10_000
        published = fleet.published
        assert len(published) == 10_000
        wait_for(lambda: len(victoria.points()) >= len(published), 120, "all readings stored")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
        # Both members took a share after the restart.
        assert a.report()["counters"].get("committed", 0) > 0
        assert b.report()["counters"].get("committed", 0) > 0
    finally:
        fleet.stop()
        a.stop()
        b.stop()
        ingest.stop()


def test_uplink_slowed_cut_and_reset_mid_batch(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """Through a faulty uplink (slow, cut mid-request, reset after the far side wrote, refused):
    no reading lost and none doubled in the store, though cloud_ingest saw some twice."""
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    proxy = FaultProxy(ingest.port)
    proxy.start()
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, f"http://127.0.0.1:{proxy.port}",
                        extra="batch_max = 200\nhttp_timeout_s = 5.0\n")
    gw.start()
    published = []
    try:
        # Each phase publishes its own readings and lasts until its fault really hit a
        # batch in flight, so the test does not depend on timing.
        for mode in ("slow", "cut_request", "drop_response", "refuse"):
            proxy.mode = mode
            fleet = SimFleet(5, ("127.0.0.1", mosquitto.port), tmp_path / mode, prefix=mode)
            published += fleet.run(200, interval_s=0)
            wait_for(lambda m=mode: proxy.faults_by_mode.get(m, 0) > 0, 60, f"a {mode} fault")
        proxy.mode = "pass"
        wait_for(lambda: len(victoria.points()) >= len(published), 120, "all readings stored")
        assert set(victoria.points()) == {(p.bin_id, p.ts_ms) for p in published}
        stats = httpx.get(f"{ingest.url}/api/v1/stats", timeout=10).json()
        # drop_response made the gateway resend batches cloud_ingest had already written.
        assert stats["readings"] > len(published)
    finally:
        gw.stop()
        proxy.stop()
        ingest.stop()



def test_a_confirmed_batch_whose_removal_fails_is_sent_again_and_stored_once(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """The forwarder removes a confirmed batch from its buffer while the next one is on
    its way. Another process holds the buffer's write lock, so removals fail (after the
    busy timeout): the confirmed readings stay buffered and go again, and once the lock
    is gone everything is stored once and the buffer empties."""
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, ingest.url, extra="batch_max = 1000\n")
    start_ms = int(time.time() * 1000) - 3_600_000
    items = [Accepted(f"rm-{i % 3}", i // 3, start_ms + i * 1000,
                      good(f"rm-{i % 3}", i // 3, start_ms + i * 1000).decode())
             for i in range(3000)]
    buffer = Buffer(gw.buffer_path)
    buffer.commit(items)
    buffer.close()
    gw.start()  # cloud_ingest is not up yet: nothing is confirmed, nothing removed
    lock = sqlite3.connect(gw.buffer_path, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        ingest.start()
        # 3 batches hold the readings; more than 3 taken means some went twice.
        wait_for(lambda: httpx.get(f"{ingest.url}/api/v1/stats", timeout=10).json().get(
            "batches", 0) > 3, 90, "a batch sent again after its removal failed")
        assert gw.report()["depth"] == 3000  # nothing could be removed
        lock.execute("ROLLBACK")
        wait_for(lambda: gw.report().get("depth") == 0, 90, "buffer drained")
        assert set(victoria.points()) == {(a.bin_id, a.ts_ms) for a in items}
        state = httpx.get(f"{ingest.url}/api/v1/bins", timeout=10).json()
        assert sorted((b["bin_id"], b["readings"], b["seq"]) for b in state) == [
            (f"rm-{i}", 1000, 999) for i in range(3)]  # each reading taken once
    finally:
        lock.close()
        gw.stop()
        ingest.stop()


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs for the gateway's buffer, so a test can fill it."""
    mnt = tmp_path / "tinyfs"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill_disk(path: Path) -> None:
    """Write a file until not one more byte fits on its file system."""
    with open(path, "wb", buffering=0) as f:
        chunk = 65536
        while chunk >= 1:
            try:
                f.write(b"\0" * chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                chunk //= 2


def test_disk_full_stops_acknowledging_and_recovers(
        tmp_path: Path, tiny_fs: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """Buffer file system full: commits fail, nothing is acknowledged, the reason is logged;
    once space returns everything arrives."""
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, ingest.url)
    gw.buffer_path = tiny_fs / "buffer.sqlite3"
    gw.config.write_text(gw.config.read_text().replace(
        str(tmp_path / "gw" / "buffer.sqlite3"), str(gw.buffer_path)))
    gw.start()
    fleet = SimFleet(5, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    try:
        first = fleet.run(100, interval_s=0)
        wait_for(lambda: len(victoria.points()) == len(first), 60, "first readings stored")
        fill_disk(tiny_fs / "filler.bin")
        acked_before = gw.report()["counters"]["acknowledged"]
        fleet2 = SimFleet(5, ("127.0.0.1", mosquitto.port), tmp_path / "bins", prefix="late")
        second = fleet2.run(100, interval_s=0)  # the broker holds these for the gateway
        wait_for(lambda: gw.report()["counters"].get("commit_failures", 0) > 0, 30,
                 "commit failures")
        time.sleep(1.0)
        assert gw.report()["counters"]["acknowledged"] == acked_before
        assert "database or disk is full" in gw.log.read_text()
        (tiny_fs / "filler.bin").unlink()
        expected = {(p.bin_id, p.ts_ms) for p in [*first, *second]}
        wait_for(lambda: len(victoria.points()) >= len(expected), 60, "all readings stored")
        assert set(victoria.points()) == expected
    finally:
        gw.stop()
        ingest.stop()


def test_too_large_batches_are_split_and_a_bad_reading_goes_alone(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """413 from cloud_ingest halves the batch until it fits; a reading cloud_ingest rejects
    (a row an older gateway buffered under looser rules) is dead-lettered alone."""
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url,
                    extra="max_body_bytes = 60000\n")
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, ingest.url)
    now = int(time.time() * 1000)
    buf = Buffer(gw.buffer_path)
    good_rows = [Accepted("bin-s", i, now - 100_000 + i, good("bin-s", i, now - 100_000 + i)
                          .decode()) for i in range(1000)]
    bad_row = Accepted("bin-s", 5000, now - 50_000,
                       good("bin-s", 5000, now - 50_000).decode().replace("10.0", "120.0"))
    buf.commit([*good_rows[:500], bad_row, *good_rows[500:]])
    buf.close()
    ingest.start()
    gw.start()
    try:
        wait_for(lambda: gw.report().get("depth") == 0, 60, "buffer drained")
        assert set(victoria.points()) == {("bin-s", now - 100_000 + i) for i in range(1000)}
        letters = dead_letters(gw.buffer_path)
        assert letters == [("bins/bin-s/telemetry", "fill_pct",
                            "rejected by cloud_ingest: must be within 0..100")]
        assert "too large for cloud_ingest" in gw.log.read_text()
    finally:
        gw.stop()
        ingest.stop()


def test_bin_status_is_passed_on_as_events(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """Retained "online" and the last will "offline" reach cloud_ingest's fleet state,
    and so does a bin's count of readings its flash queue dropped; a status that is
    neither online nor offline is dead-lettered."""
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)

    def status_of(bin_id: str) -> object:
        bins = httpx.get(f"{ingest.url}/api/v1/bins", timeout=10).json()
        return next((b.get("status") for b in bins if b["bin_id"] == bin_id), None)

    fleet = SimFleet(1, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    b = fleet.bins[0]
    try:
        b.connect()
        wait_for(lambda: status_of(b.bin_id) == "online", 30, "online status")
        # Cut the bin off without a DISCONNECT: the broker publishes its will.
        b.client.loop_stop()
        b.client.socket().close()  # type: ignore[union-attr]
        wait_for(lambda: status_of(b.bin_id) == "offline", 90, "offline from the last will")
        # A bin whose flash queue overflowed reports how many readings it dropped.
        publish_raw(mosquitto.port, [("bins/bin-d/status",
                                      b'{"state":"online","config":3,"dropped":61}')])
        wait_for(lambda: status_of("bin-d") == "online", 30, "the dropped count")
        bins = httpx.get(f"{ingest.url}/api/v1/bins", timeout=10).json()
        d = next(x for x in bins if x["bin_id"] == "bin-d")
        assert (d["config_version"], d["dropped"]) == (3, 61)
        publish_raw(mosquitto.port, [("bins/bin-q/status", b"sleepy")])
        wait_for(lambda: len(dead_letters(gw.buffer_path)) == 1, 30, "dead letter")
        assert dead_letters(gw.buffer_path)[0][1] == "status"
        assert status_of("bin-q") is None
    finally:
        gw.stop()
        ingest.stop()


# SQLite writes with pwrite and syncs; plain write() stays up so the log can say why.
DISK_WRITES = ("posix/io/rw/pwrite", "posix/io/sync/fsync", "posix/io/sync/fdatasync")


def test_disk_failing_with_eio_stops_acknowledging_and_recovers(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """libfiu makes the gateway's disk writes fail with EIO: nothing is acknowledged, the
    reason is logged; when the disk works again everything arrives."""
    if shutil.which("fiu-run") is None:
        pytest.fail("fiu-run (Debian fiu-utils) is required; .ci/run installs it")
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    gw = GatewayProcess(tmp_path / "gw", mosquitto.url, ingest.url)
    gw.wrapper = ["fiu-run", "-x", "-f", str(tmp_path / "fiu")]
    gw.start()
    assert gw.proc is not None
    ctrl = ["fiu-ctrl", "-f", str(tmp_path / "fiu")]
    fleet = SimFleet(5, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    try:
        first = fleet.run(100, interval_s=0)
        wait_for(lambda: len(victoria.points()) == len(first), 60, "first readings stored")
        acked_before = gw.report()["counters"]["acknowledged"]
        for point in DISK_WRITES:
            subprocess.run([*ctrl, "-c", f"enable name={point},failinfo={errno.EIO}",
                            str(gw.proc.pid)], check=True, timeout=10)
        fleet2 = SimFleet(5, ("127.0.0.1", mosquitto.port), tmp_path / "bins", prefix="late")
        second = fleet2.run(100, interval_s=0)
        wait_for(lambda: gw.report()["counters"].get("commit_failures", 0) > 0, 30,
                 "commit failures")
        time.sleep(1.0)
        assert gw.report()["counters"]["acknowledged"] == acked_before
        for point in DISK_WRITES:
            subprocess.run([*ctrl, "-c", f"disable name={point}", str(gw.proc.pid)],
                           check=True, timeout=10)
        assert "disk I/O error" in gw.log.read_text()
        expected = {(p.bin_id, p.ts_ms) for p in [*first, *second]}
        wait_for(lambda: len(victoria.points()) >= len(expected), 60, "all readings stored")
        assert set(victoria.points()) == expected
    finally:
        gw.stop()
        ingest.stop()


def test_binary_uplink_is_stored_like_json(
        tmp_path: Path, mosquitto: Mosquitto, victoria: VictoriaMetrics) -> None:
    """A 49-byte binary message with two readings lands as two points; a broken one is a
    dead letter."""
    cfg = reading.BinConfig("bin-lora", 1000, 150, 250, 84211, 215000, 10000, "0.1.0")
    now = int(time.time() * 1000)
    readings = [reading.make_reading(cfg, i, now - 120_000 + i * 60_000, True, 650, 300_000,
                                     3600, 215) for i in range(2)]
    msg = binary.encode(readings)
    assert len(msg) == 49
    ingest, gw = pipeline(tmp_path, mosquitto.url, victoria.url)
    try:
        publish_raw(mosquitto.port, [("bins/bin-lora/telemetry", msg),
                                     ("bins/bin-lora/telemetry", msg[:30])])
        wait_for(lambda: len(victoria.points()) == 2, 60, "binary readings stored")
        points = victoria.points()
        assert points[("bin-lora", now - 120_000)]["fill_pct"] == 50.0
        assert points[("bin-lora", now - 60_000)]["temp_c"] == 21.5
        wait_for(lambda: len(dead_letters(gw.buffer_path)) == 1, 30, "dead letter")
        assert dead_letters(gw.buffer_path)[0][1] == "payload"
    finally:
        gw.stop()
        ingest.stop()
