"""The live stream (server-sent events) from a running cloud_ingest with VictoriaMetrics:
a client connected before a batch arrives sees each bin's newest reading and the status
events of that batch, once."""

import gzip
import json
import threading
import time
from pathlib import Path

import httpx

from protocol import batch
from tests.cloud_ingest.test_ingest import AUTH, reading
from tests.servers import VictoriaMetrics
from tests.services import Ingest


def test_stream_shows_committed_changes(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    """Three readings of one bin and one of another, plus a status event: two reading
    events (the newest per bin) and one status event; a replay of the batch adds none."""
    svc = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    svc.start()
    events: list[tuple[str, dict[str, object]]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{svc.url}/api/v1/stream", timeout=30) as r:
            kind = ""
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
                    if len(events) >= 4:
                        return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    try:
        assert connected.wait(10)
        now = int(time.time() * 1000)
        readings = [reading("bin-s", i, now - 3000 + i * 1000, fill_pct=10.0 * i)
                    for i in range(3)] + [reading("bin-t", 0, now)]
        body = json.loads(batch.encode("gw-1", readings))
        body["events"] = [{"bin": "bin-t", "status": "online", "ts_ms": now,
                           "config_version": 3}]
        raw = gzip.compress(json.dumps(body).encode())
        headers = {**AUTH, "Content-Encoding": "gzip"}
        for _ in range(2):  # the batch, then the gateway retrying it
            assert httpx.post(f"{svc.url}/api/v1/ingest", content=raw, headers=headers,
                              timeout=10).status_code == 200
        marker = gzip.compress(batch.encode("gw-1", [reading("bin-u", 0, now)]))
        assert httpx.post(f"{svc.url}/api/v1/ingest", content=marker, headers=headers,
                          timeout=10).status_code == 200
        t.join(15)
        assert not t.is_alive()
        # The replay produced nothing: the event after the first batch's is bin-u's.
        assert events[3][1]["bin_id"] == "bin-u"
        by_kind = sorted((k, e["bin_id"]) for k, e in events[:3])
        assert by_kind == [("reading", "bin-s"), ("reading", "bin-t"), ("status", "bin-t")]
        newest = next(e for k, e in events if k == "reading" and e["bin_id"] == "bin-s")
        assert (newest["fill_pct"], newest["ts_ms"]) == (20.0, now - 1000)
        status = next(e for k, e in events if k == "status")
        assert status["config_version"] == 3
    finally:
        svc.stop()
