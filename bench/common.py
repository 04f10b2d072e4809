"""Shared helpers for the benchmark scripts: results table and file, publishers."""

import json
import multiprocessing as mp
import platform
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

RESULTS = Path(__file__).resolve().parent / "results"


def payload(bin_id: str, seq: int, ts_ms: int) -> bytes:
    """A valid v1 payload of typical size."""
    return (
        f'{{"v":1,"bin":"{bin_id}","seq":{seq},"ts_ms":{ts_ms},"fill_pct":42.5,'
        f'"distance_mm":725,"weight_kg":12.345,"battery_mv":3600,"temp_c":18.5,"quality":4,'
        f'"flags":0,"fw":"0.1.0"}}'
    ).encode()


def _publish(port: int, worker: int, count: int, bins: int, start_ms: int) -> None:
    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                    client_id=f"bench-pub-{worker}-{time.time_ns()}")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = []
    for i in range(count):
        b = f"b{worker}-{i % bins:05d}"
        seq = i // bins
        infos.append(c.publish(f"bins/{b}/telemetry", payload(b, seq, start_ms + seq * 60_000),
                               qos=1))
    for info in infos:
        info.wait_for_publish(timeout=300)
    c.loop_stop()
    c.disconnect()


def start_publishers(port: int, workers: int, per_worker: int, bins_per_worker: int,
                     start_ms: int) -> list[Any]:
    """Start publisher processes; each sends per_worker QoS 1 messages."""
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_publish, args=(port, w, per_worker, bins_per_worker, start_ms))
             for w in range(workers)]
    for p in procs:
        p.start()
    return procs


def report(name: str, rows: list[tuple[str, str]], data: dict[str, Any]) -> None:
    """Print a table and write bench/results/<name>.json."""
    width = max(len(k) for k, _ in rows) + 2
    print()
    for k, v in rows:
        print(f"{k:<{width}}{v}")
    data = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"{platform.machine()}, {mp.cpu_count()} cores, Python "
                       f"{platform.python_version()}", **data}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwritten to {RESULTS / (name + '.json')}")
