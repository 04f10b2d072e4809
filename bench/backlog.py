"""Backlog drain and gateway memory.

    python bench/backlog.py [--readings 1000000] [--bins 1000]

1. Baseline: the same readings written straight to VictoriaMetrics through
   cloud_ingest's InfluxSeriesWriter (influxdb-client), in batches of the gateway's
   default size, from one thread. That is what the store takes from one writer.
2. Drain: the readings sit in a gateway buffer; cloud_ingest and the gateway start;
   clock until the buffer is empty (every reading confirmed written). Then the
   store is counted. Gateway RSS is sampled throughout (it must not hold the backlog).
3. Fleet: a fresh gateway takes one reading from each of 10,000 bins; RSS after.
"""

import argparse
import json
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import payload, report, start_publishers
from binfleet.ports import free_port
from cloud_ingest.series import InfluxSeriesWriter
from gateway.buffer import Accepted, Buffer
from protocol import v1
from tests.servers import Mosquitto, VictoriaMetrics
from tests.services import GatewayProcess, Ingest

BATCH = 5000  # the gateway's default batch_max
# How long the store may take to show every confirmed point before the count is final.
VISIBLE_WITHIN_S = 60.0


def readings(n: int, bins: int, start_ms: int) -> list[Accepted]:
    """n buffered readings spread over bins, one a minute per bin."""
    out = []
    for i in range(n):
        b, seq = f"bl-{i % bins:05d}", i // bins
        out.append(Accepted(b, seq, start_ms + seq * 60_000,
                            payload(b, seq, start_ms + seq * 60_000).decode()))
    return out


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def count_points(vm: VictoriaMetrics) -> int:
    """Points of bin_reading_seq stored in the last 30 days."""
    urllib.request.urlopen(f"{vm.url}/internal/force_flush", timeout=60).close()
    q = urllib.parse.urlencode({"query": "sum(count_over_time(bin_reading_seq[30d]))"})
    with urllib.request.urlopen(f"{vm.url}/api/v1/query?{q}", timeout=120) as r:
        result = json.loads(r.read())["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def baseline(tmp: Path, items: list[Accepted]) -> float:
    """Readings/s written straight to the store by one influxdb-client writer."""
    vm = VictoriaMetrics(tmp / "vm-base")
    vm.start()
    try:
        writer = InfluxSeriesWriter(vm.url, "", "binfleet", "binfleet", 60)
        now = int(time.time() * 1000) + 60_000
        decoded = [v1.decode(a.body.encode(), None, now) for a in items]
        started = time.monotonic()
        for i in range(0, len(decoded), BATCH):
            writer.write(decoded[i:i + BATCH])
        elapsed = time.monotonic() - started
        writer.close()
        return len(items) / elapsed
    finally:
        vm.stop()


def drain(tmp: Path, items: list[Accepted], batch_max: int) -> tuple[float, int, int, int, float]:
    """Return (readings/s, points in store, peak and idle gateway RSS KiB, visibility lag s)."""
    vm = VictoriaMetrics(tmp / "vm-drain")
    vm.start()
    broker = Mosquitto(tmp / "mq")
    broker.start()
    ingest = Ingest(tmp / "ingest", influx_url=vm.url)
    gw = GatewayProcess(tmp / "gw", broker.url, ingest.url, extra=f"batch_max = {batch_max}\n")
    buf = Buffer(gw.buffer_path)
    for i in range(0, len(items), 50_000):
        buf.commit(items[i:i + 50_000])
    buf.close()
    try:
        ingest.start()
        gw.start()
        assert gw.proc is not None
        idle = rss_kb(gw.proc.pid)
        started = time.monotonic()
        peak = 0
        while gw.report().get("depth", 1) != 0:
            peak = max(peak, rss_kb(gw.proc.pid))
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        # Confirmed writes become searchable in VictoriaMetrics a moment later.
        stored, confirmed = count_points(vm), time.monotonic()
        while stored < len(items) and time.monotonic() - confirmed < VISIBLE_WITHIN_S:
            time.sleep(1.0)
            stored = count_points(vm)
        return len(items) / elapsed, stored, peak, idle, time.monotonic() - confirmed
    finally:
        gw.stop()
        ingest.stop()
        broker.kill()
        vm.stop()


def fleet_rss(tmp: Path, bins: int) -> tuple[int, int]:
    """Gateway RSS (KiB) before and after one reading from each of `bins` bins."""
    broker = Mosquitto(tmp / "mq-fleet")
    broker.start()
    gw = GatewayProcess(tmp / "gw-fleet", broker.url, f"http://127.0.0.1:{free_port()}")
    gw.start()
    try:
        assert gw.proc is not None
        before = rss_kb(gw.proc.pid)
        procs = start_publishers(broker.port, 4, bins // 4, bins // 4,
                                 int(time.time() * 1000) - 3_600_000)
        for p in procs:
            p.join()
        while gw.report().get("counters", {}).get("committed", 0) < bins:
            time.sleep(0.2)
        return before, rss_kb(gw.proc.pid)
    finally:
        gw.stop()
        broker.kill()


def main() -> None:
    """Run all three and report."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--readings", type=int, default=1_000_000)
    ap.add_argument("--bins", type=int, default=1000)
    ap.add_argument("--batch-max", type=int, default=BATCH, help="gateway batch_max")
    args = ap.parse_args()
    start_ms = int(time.time() * 1000) - (args.readings // args.bins + 10) * 60_000
    items = readings(args.readings, args.bins, start_ms)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        base_rate = baseline(tmp, items)
        rate, stored, peak, idle, lag = drain(tmp, items, args.batch_max)
        del items
        fleet_before, fleet_after = fleet_rss(tmp, 10_000)
    report("backlog", [
        ("backlog", f"{args.readings:,} readings from {args.bins:,} bins"),
        ("baseline: direct writes", f"{base_rate:,.0f} readings/s (influxdb-client, one writer)"),
        ("drain end to end", f"{rate:,.0f} readings/s (target > 20,000)"),
        ("ratio drain / baseline", f"{rate / base_rate:.2f}"),
        ("gateway batch_max", f"{args.batch_max:,}"),
        ("points in store after", f"{stored:,} (all visible {lag:.1f} s after the last 2xx)"),
        ("gateway RSS idle -> peak", f"{idle / 1024:.0f} -> {peak / 1024:.0f} MiB during drain"),
        ("gateway RSS, 10,000 bins", f"{fleet_before / 1024:.0f} -> {fleet_after / 1024:.0f} MiB"),
    ], {"readings": args.readings, "bins": args.bins,
        "baseline_readings_per_s": round(base_rate), "drain_readings_per_s": round(rate),
        "ratio": round(rate / base_rate, 3), "target_readings_per_s": 20_000,
        "batch_max": args.batch_max, "points_in_store": stored, "visibility_lag_s": round(lag, 1),
        "gateway_rss_idle_kib": idle,
        "gateway_rss_peak_drain_kib": peak, "gateway_rss_10000_bins_kib": fleet_after})


if __name__ == "__main__":
    main()
