"""`binfleet demo` on embedded defaults (amqtt + SQLite): runs, ends by itself, loses nothing."""

import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.servers import Mosquitto, VictoriaMetrics, env_without_proxies, points_at_least


def run_demo(tmp_path: Path, *extra: str) -> str:
    """Run `binfleet demo --for 8 --bins 5` and return its output."""
    proc = subprocess.run(
        [sys.executable, "-m", "binfleet.cli", "demo", "--for", "8", "--bins", "5",
         "--interval", "0.5", "--data-dir", str(tmp_path / "demo"), *extra],
        capture_output=True, text=True, timeout=120, env=env_without_proxies(), check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def hop(output: str, name: str) -> int:
    """The count a summary line reports."""
    m = re.search(rf"^{re.escape(name)}\s+(\d+)$", output, re.MULTILINE)
    assert m, f"no summary line {name!r} in:\n{output}"
    return int(m.group(1))


def test_demo_with_embedded_defaults(tmp_path: Path) -> None:
    """Every published reading is in the embedded series store; the summary says so."""
    out = run_demo(tmp_path)
    assert "embedded amqtt" in out
    assert "embedded SQLite series store" in out
    published = hop(out, "bins published (PUBACK)")
    assert published > 20
    assert hop(out, "gateway committed") == published
    assert hop(out, "cloud_ingest stored") == published
    assert hop(out, "left in gateway buffer") == 0
    with sqlite3.connect(tmp_path / "demo" / "series.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM bin_reading").fetchone()[0] == published
        per_bin = dict(db.execute("SELECT bin_id, count(*) FROM bin_reading GROUP BY bin_id"))
    # Every bin reported all along (16 readings in 8 s, give or take the edges): a bin
    # whose first publish raced its CONNECT once sat wedged on amqtt for the whole run.
    assert len(per_bin) == 5
    assert min(per_bin.values()) >= 12


def test_demo_with_a_real_broker(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """--mqtt-url switches to the given broker."""
    out = run_demo(tmp_path, "--mqtt-url", mosquitto.url)
    assert f"broker:       {mosquitto.url} (given)" in out
    assert hop(out, "cloud_ingest stored") == hop(out, "bins published (PUBACK)") > 20


def test_demo_with_a_real_store(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    """--influx-url writes the series through influxdb-client to that store."""
    out = run_demo(tmp_path, "--influx-url", victoria.url)
    assert f"InfluxDB v2 write API at {victoria.url}" in out
    stored = hop(out, "cloud_ingest stored")
    assert stored == hop(out, "bins published (PUBACK)") > 20
    assert len(points_at_least(victoria, stored)) == stored


def test_demo_ctrl_c_stops_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    """SIGINT mid-run: exit 0, and everything the bins got a PUBACK for is stored."""
    with subprocess.Popen(
        [sys.executable, "-m", "binfleet.cli", "demo", "--bins", "5", "--interval", "0.2",
         "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env_without_proxies(),
    ) as proc:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.strip().startswith("published"):
                break
        proc.send_signal(signal.SIGINT)
        out = "".join(lines) + proc.stdout.read()
        assert proc.wait(timeout=60) == 0, out
    published = hop(out, "bins published (PUBACK)")
    assert published > 0
    assert hop(out, "cloud_ingest stored") == published
    assert hop(out, "left in gateway buffer") == 0
