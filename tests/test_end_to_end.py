"""A reading from a simulated bin reaches VictoriaMetrics through Mosquitto, the gateway
and cloud_ingest, exactly once, with the values and timestamp the bin sent."""

import json
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hardware.sim import SimFleet
from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import GatewayProcess, Ingest, wait_for

BINS = 20
READINGS_PER_BIN = 50
FIELDS = ("fill_pct", "distance_mm", "weight_kg", "battery_mv", "temp_c", "quality", "flags",
          "seq")


def test_1000_readings_arrive_exactly_once(tmp_path: Path, mosquitto: Mosquitto,
                                           victoria: VictoriaMetrics) -> None:
    """20 bins x 50 readings: every PUBACKed reading is one point in the store, values equal."""
    ingest = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    ingest.start()
    gw = GatewayProcess(tmp_path / "gateway", mosquitto.url, ingest.url)
    gw.start()
    try:
        fleet = SimFleet(BINS, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
        published = fleet.run(READINGS_PER_BIN, interval_s=0)
        assert len(published) == BINS * READINGS_PER_BIN

        wait_for(lambda: len(victoria.points()) >= len(published), 90,
                 "all readings in VictoriaMetrics")
        points = victoria.points()
        expected = {(p.bin_id, p.ts_ms): json.loads(p.body) for p in published}
        assert set(points) == set(expected)
        for key, sent in expected.items():
            stored = points[key]
            for field in FIELDS:
                if sent[field] is None:
                    assert field not in stored, (key, field)
                else:
                    assert stored[field] == sent[field], (key, field)
    finally:
        gw.stop()
        ingest.stop()


def test_bins_announce_status_with_retained_message_and_will(mosquitto: Mosquitto,
                                                             tmp_path: Path) -> None:
    """A bin's status is retained "online" while connected; its will says "offline"."""
    fleet = SimFleet(1, ("127.0.0.1", mosquitto.port), tmp_path / "bins")
    b = fleet.bins[0]
    b.connect()
    seen: list[bytes] = []
    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="watch")
    sub.on_message = lambda c, u, m: seen.append(m.payload)
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe(f"bins/{b.bin_id}/status", qos=1)
    sub.loop_start()
    try:
        wait_for(lambda: seen and seen[-1] == b"online", 10, "retained online status")
        # Cut the bin's connection without a DISCONNECT: the broker publishes the will.
        b.client.loop_stop()
        b.client.socket().close()  # type: ignore[union-attr]
        wait_for(lambda: seen[-1] == b"offline", 60, "last will")
    finally:
        sub.loop_stop()
        sub.disconnect()
