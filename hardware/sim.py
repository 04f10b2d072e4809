"""Simulated bins: a load cell, a fill sensor and a battery feeding the real firmware core,
publishing v1 payloads over MQTT (QoS 1) like a device would.

    fleet = SimFleet(bins=20, mqtt=("127.0.0.1", 1883), data_dir=tmp)
    published = fleet.run(readings_per_bin=50, interval_s=0)   # fast-forward clock

Each bin has its own paho client with a last will on `bins/{id}/status` ("offline",
retained) and publishes a retained "online" on every connection, from on_connect. A
bin publishes only while connected: paho does not support publishing before the
CONNACK (a publish racing the connect can reach the broker ahead of CONNECT, which
then drops or wedges the session). A reading counts as published only when the
broker's PUBACK came back.
"""

import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from firmware.core import payload, reading
from firmware.core.seq import SeqCounter
from protocol import topics

log = logging.getLogger(__name__)

FIRMWARE_VERSION = "0.1.0"
# Simulated HX711: counts at zero load, counts per 10 kg.
TARE_COUNTS = 84_211
CAL_COUNTS = 215_000
CAL_GRAMS = 10_000
# How long a bin waits for a PUBACK before it treats the publish as failed.
PUBACK_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Published:
    """A reading the broker acknowledged."""

    bin_id: str
    seq: int
    ts_ms: int
    body: bytes


class SimHardware:
    """Physics of one bin: fill grows, weight follows, collections empty it."""

    def __init__(self, rng: random.Random, depth_mm: int = 1000, offset_mm: int = 150,
                 litres: int = 1100, density_kg_per_l: float = 0.08) -> None:
        """Start a bin at a random fill."""
        self.rng = rng
        self.depth_mm = depth_mm
        self.offset_mm = offset_mm
        self.litres = litres
        self.density = density_kg_per_l
        self.fill = rng.uniform(0.0, 0.6)
        self.battery_mv = rng.randint(3300, 3600)
        # Distance to something lying over the sensor (a bag, a box), or None.
        self.cover_mm: int | None = None
        self.lid_open = False
        self.tilted = False
        self.drift_g = 0.0  # the load cell's zero drift (temperature, creep)

    def step(self) -> None:
        """Advance one sampling interval: some waste in, sometimes a collection."""
        self.fill = min(1.0, self.fill + self.rng.expovariate(1 / 0.01))
        if self.fill > 0.9 and self.rng.random() < 0.2:
            self.fill = self.rng.uniform(0.0, 0.05)
        if self.rng.random() < 0.01:
            self.battery_mv -= 1

    def distance_mm(self) -> int:
        """Ultrasonic echo distance with a little noise."""
        if self.cover_mm is not None:
            return max(0, int(self.cover_mm + self.rng.gauss(0, 3)))
        surface = self.offset_mm + self.depth_mm * (1 - self.fill)
        return max(0, int(surface + self.rng.gauss(0, 3)))

    def counts(self) -> int:
        """HX711 counts for the current load."""
        grams = self.fill * self.litres * self.density * 1000 + self.drift_g
        return int(TARE_COUNTS + grams * CAL_COUNTS / CAL_GRAMS + self.rng.gauss(0, 50))

    def switch_flags(self) -> int:
        """The lid and tilt switches as reading flags (firmware/core/reading.py)."""
        return (0x0400 if self.lid_open else 0) | (0x0800 if self.tilted else 0)

    def read_counts(self) -> int:
        """One load-cell sample, for serial provisioning (TARE, CAL)."""
        return self.counts()

    def temp_dc(self) -> int:
        """Air temperature in tenths of a degree."""
        return int(180 + self.rng.gauss(0, 15))

    def read(self) -> tuple[int | None, int | None, int | None, int | None]:
        """One wake's raw values, one sample each."""
        self.step()
        return self.distance_mm(), self.counts(), self.battery_mv, self.temp_dc()

    def read_samples(self, n: int = 5) -> tuple[list[int | None], list[int | None], int | None,
                                                int | None]:
        """One wake's samples, as firmware.node.Node expects from the drivers."""
        self.step()
        distances: list[int | None] = [self.distance_mm() for _ in range(n)]
        counts: list[int | None] = [self.counts() for _ in range(3)]
        return distances, counts, self.battery_mv, self.temp_dc()


class SimBin:
    """One simulated controller: real firmware core, simulated sensors, a paho client."""

    def __init__(self, bin_id: str, mqtt_addr: tuple[str, int], data_dir: Path,
                 rng: random.Random) -> None:
        """Prepare the bin; connect() opens its MQTT session."""
        self.bin_id = bin_id
        self.hw = SimHardware(rng)
        self.cfg = reading.BinConfig(bin_id, self.hw.depth_mm, self.hw.offset_mm, 250,
                                     TARE_COUNTS, CAL_COUNTS, CAL_GRAMS, FIRMWARE_VERSION)
        self.seqs = SeqCounter(str(data_dir / f"{bin_id}.seq"))
        self._addr = mqtt_addr
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"sim-{bin_id}", clean_session=True,
                                  protocol=mqtt.MQTTv311)
        self.client.will_set(topics.status(bin_id), b"offline", qos=1, retain=True)
        self.client.reconnect_delay_set(1, 5)
        self.connected = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object,
                    reason: ReasonCode, _properties: object) -> None:
        if reason.is_failure:
            return
        client.publish(topics.status(self.bin_id), b"online", qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object,
                       _reason: ReasonCode, _properties: object) -> None:
        self.connected.clear()

    def connect(self, wait_s: float = 10.0) -> bool:
        """Open the MQTT connection (the bin announces itself online, retained, once it
        is up); True if it was up within wait_s. paho keeps retrying either way."""
        self.client.connect_async(*self._addr, keepalive=30)
        self.client.loop_start()
        return self.connected.wait(wait_s)

    def disconnect(self) -> None:
        """Say offline (retained) and close cleanly; a clean close sends no will."""
        if self.connected.is_set():
            info = self.client.publish(topics.status(self.bin_id), b"offline", qos=1,
                                       retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def sample(self, ts_ms: int) -> tuple[int, bytes]:
        """Advance the physics and produce one encoded reading."""
        self.hw.step()
        r = reading.make_reading(self.cfg, self.seqs.next(), ts_ms, True, self.hw.distance_mm(),
                                 self.hw.counts(), self.hw.battery_mv, self.hw.temp_dc())
        return r.seq, payload.encode_json(r)

    def publish(self, body: bytes) -> bool:
        """Publish with QoS 1; True once the broker acknowledged it."""
        if not self.connected.wait(PUBACK_TIMEOUT_S):
            return False
        info = self.client.publish(topics.telemetry(self.bin_id), body, qos=1)
        try:
            info.wait_for_publish(timeout=PUBACK_TIMEOUT_S)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()


class SimFleet:
    """Many simulated bins publishing in parallel, one thread per bin."""

    def __init__(self, bins: int, mqtt_addr: tuple[str, int], data_dir: str | Path,
                 seed: int = 1, prefix: str = "bin") -> None:
        """Create the bins; ids are {prefix}-0001, {prefix}-0002, ..."""
        self.data_dir = Path(data_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        self.bins = [SimBin(f"{prefix}-{i:04d}", mqtt_addr, self.data_dir,
                            random.Random(seed * 100_003 + i)) for i in range(1, bins + 1)]
        self.published: list[Published] = []
        self.failed = 0
        self._lock = threading.Lock()
        self.stop_event = threading.Event()

    def _run_bin(self, b: SimBin, count: int | None, interval_s: float,
                 clock: Callable[[int], int]) -> None:
        i = 0
        pending: tuple[int, int, bytes] | None = None
        while (count is None or i < count) and not self.stop_event.is_set():
            if pending is None:
                ts = clock(i)
                seq, body = b.sample(ts)
                pending = (seq, ts, body)
            seq, ts, body = pending
            if b.publish(body):
                with self._lock:
                    self.published.append(Published(b.bin_id, seq, ts, body))
                pending = None
                i += 1
                if interval_s > 0:
                    self.stop_event.wait(interval_s)
            else:
                # Like the device: keep the reading and retry it, in order.
                with self._lock:
                    self.failed += 1
                self.stop_event.wait(0.5)

    def run(self, readings_per_bin: int | None, interval_s: float,
            start_ms: int | None = None, step_ms: int = 60_000) -> list[Published]:
        """Publish readings_per_bin readings from every bin (None: until stop()).

        With interval_s == 0 the clock is simulated: reading i is stamped
        start_ms + i * step_ms (start defaults to just far enough in the past that
        the last reading is now). Otherwise readings carry the wall-clock time.
        """
        if interval_s == 0:
            n = readings_per_bin or 0
            base = start_ms if start_ms is not None else int(time.time() * 1000) - n * step_ms

            def clock(i: int) -> int:
                return base + i * step_ms
        else:

            def clock(i: int) -> int:
                return int(time.time() * 1000)

        for b in self.bins:
            b.connect()
        threads = [threading.Thread(target=self._run_bin, args=(b, readings_per_bin, interval_s,
                                                                clock), daemon=True)
                   for b in self.bins]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for b in self.bins:
            b.disconnect()
        return list(self.published)

    def stop(self) -> None:
        """Ask every bin to finish its current publish and stop."""
        self.stop_event.set()
