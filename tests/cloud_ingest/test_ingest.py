"""cloud_ingest against a real VictoriaMetrics: documented schema, idempotent replays,
clear 4xx answers, and 503 + Retry-After while the store is down, nothing lost after."""

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from protocol import batch
from tests.servers import VictoriaMetrics, points_at_least
from tests.services import TOKEN, Ingest

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def reading(bin_id: str, seq: int, ts_ms: int, **changes: Any) -> dict[str, Any]:
    """A valid v1 wire dict."""
    r = {"v": 1, "bin": bin_id, "seq": seq, "ts_ms": ts_ms, "fill_pct": 40.5,
         "distance_mm": 700, "weight_kg": 12.25, "battery_mv": 3550, "temp_c": 19.5,
         "quality": 4, "flags": 0, "fw": "0.1.0"}
    r.update(changes)
    return r


@pytest.fixture
def ingest(tmp_path: Path, victoria: VictoriaMetrics) -> Iterator[Ingest]:
    """cloud_ingest writing to the test's VictoriaMetrics."""
    svc = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    svc.start()
    yield svc
    svc.stop()


def post(svc: Ingest, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST a gzip'd batch."""
    h = {"Content-Encoding": "gzip", **AUTH, **(headers or {})}
    return httpx.post(f"{svc.url}/api/v1/ingest", content=gzip.compress(body), headers=h,
                      timeout=30)


def test_schema_in_store(ingest: Ingest, victoria: VictoriaMetrics) -> None:
    """Measurement bin_reading, tags bin and fw, one field per value, ms timestamps."""
    now = int(time.time() * 1000)
    readings = [reading("bin-a", 1, now - 2000), reading("bin-a", 2, now - 1000, fill_pct=None,
                                                         flags=2, quality=1)]
    resp = post(ingest, batch.encode("gw-1", readings))
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 2
    points_at_least(victoria, 2)  # the second reading has no fill, so 2 points in all
    series = {s["metric"]["__name__"]: s for s in victoria.export()}  # type: ignore[index]
    assert set(series) == {f"bin_reading_{f}" for f in
                           ("fill_pct", "distance_mm", "weight_kg", "battery_mv", "temp_c",
                            "quality", "flags", "seq")}
    fill = series["bin_reading_fill_pct"]
    assert fill["metric"]["bin"] == "bin-a"
    assert fill["metric"]["fw"] == "0.1.0"
    assert fill["timestamps"] == [now - 2000]  # the null fill of seq 2 wrote no point
    assert fill["values"] == [40.5]
    assert series["bin_reading_flags"]["values"] == [0, 2]
    state = httpx.get(f"{ingest.url}/api/v1/bins", timeout=10).json()
    assert state[0]["bin_id"] == "bin-a"
    assert state[0]["seq"] == 2


def test_replayed_batch_changes_nothing(ingest: Ingest, victoria: VictoriaMetrics) -> None:
    """The same batch three times: the same points, and the fleet state unchanged."""
    now = int(time.time() * 1000)
    body = batch.encode("gw-1", [reading("bin-b", i, now - 10_000 + i) for i in range(50)])
    for _ in range(3):
        assert post(ingest, body).status_code == 200
    points = points_at_least(victoria, 50)
    assert len(points) == 50
    state = httpx.get(f"{ingest.url}/api/v1/bins", timeout=10).json()
    assert state[0]["seq"] == 49
    assert state[0]["readings"] == 50


def test_unauthorized_and_invalid(ingest: Ingest, victoria: VictoriaMetrics) -> None:
    """401 without a known token; 400 naming the reading and field; nothing written."""
    now = int(time.time() * 1000)
    good = batch.encode("gw-1", [reading("bin-c", 1, now)])
    assert post(ingest, good, {"Authorization": "Bearer wrong"}).status_code == 401
    bad = batch.encode("gw-1", [reading("bin-c", 1, now), reading("bin-c", 2, now,
                                                                   weight_kg=-3)])
    resp = post(ingest, bad)
    assert resp.status_code == 400
    assert resp.json()["error"] == {"field": "readings[1].weight_kg",
                                    "rule": "must be within 0..2000", "index": 1}
    assert post(ingest, b"not json").status_code == 400
    resp = httpx.post(f"{ingest.url}/api/v1/ingest", content=b"\x1f\x8bxx",
                      headers={"Content-Encoding": "gzip", **AUTH}, timeout=10)
    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == "body"
    assert victoria.points() == {}


def test_gzip_bomb_is_refused(ingest: Ingest) -> None:
    """A small body that unpacks past the limit gets 413, not an out-of-memory."""
    bomb = gzip.compress(b" " * (40 * 1024 * 1024))
    resp = httpx.post(f"{ingest.url}/api/v1/ingest", content=bomb,
                      headers={"Content-Encoding": "gzip", **AUTH}, timeout=30)
    assert resp.status_code == 413


def test_store_down_gives_503_then_recovers(ingest: Ingest, victoria: VictoriaMetrics) -> None:
    """With the store stopped: 503 + Retry-After. Once it is back the same batch lands."""
    now = int(time.time() * 1000)
    body = batch.encode("gw-1", [reading("bin-d", i, now - 1000 + i) for i in range(10)])
    victoria.stop()
    resp = post(ingest, body)
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "1"
    assert json.loads(resp.text)["error"]["field"] == "store"
    victoria.start()
    resp = post(ingest, body)
    assert resp.status_code == 200
    assert len(points_at_least(victoria, 10)) == 10


def test_registered_bins_carry_site_and_material_tags(tmp_path: Path,
                                                      victoria: VictoriaMetrics) -> None:
    """A bin imported into the registry is written with its site and material as tags;
    an unregistered one with bin and fw only."""
    import subprocess
    import sys

    svc = Ingest(tmp_path / "ingest", influx_url=victoria.url)
    (tmp_path / "sites.csv").write_text("site_id,name\nnorth,North depot\n")
    (tmp_path / "bins.csv").write_text("bin_id,site_id,material\nbin-r,north,glass\n")
    for kind in ("sites", "bins"):
        subprocess.run([sys.executable, "-m", "binfleet.cli", "fleet", "import",
                        str(tmp_path / f"{kind}.csv"), "--kind", kind, "--config",
                        str(svc.config)], check=True, capture_output=True, timeout=60)
    svc.start()
    try:
        now = int(time.time() * 1000)
        assert post(svc, batch.encode("gw-1", [reading("bin-r", 1, now),
                                               reading("bin-u", 1, now)])).status_code == 200
        points_at_least(victoria, 2)
        labels = {str(s["metric"]["bin"]): s["metric"]  # type: ignore[index]
                  for s in victoria.export('{__name__="bin_reading_fill_pct"}')}
        assert labels["bin-r"] == {"__name__": "bin_reading_fill_pct", "bin": "bin-r",
                                   "fw": "0.1.0", "material": "glass", "site": "north"}
        assert labels["bin-u"] == {"__name__": "bin_reading_fill_pct", "bin": "bin-u",
                                   "fw": "0.1.0"}
    finally:
        svc.stop()
