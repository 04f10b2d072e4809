"""Real servers for tests: Mosquitto and VictoriaMetrics on free ports, temporary data dirs.

Every test that needs a broker or a store gets it through the fixtures in
tests/conftest.py, which use these classes; nothing here touches a server that
was running before the test.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from binfleet.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "binfleet.conf"


def wait_port(port: int, timeout_s: float = 20.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Mosquitto:
    """A Mosquitto broker with the project's config on a free port."""

    def __init__(self, workdir: Path, extra_conf: str = "") -> None:
        """Prepare config and data dir; start() runs it."""
        self.port = free_port()
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            MOSQUITTO_CONF.read_text()
            + f"\nlistener {self.port} 127.0.0.1\nallow_anonymous true\n"
            + f"persistence_location {self.data}/\nlog_dest file {workdir}/mosquitto.log\n"
            # Started as root, Mosquitto drops to user `mosquitto`, which cannot write into
            # pytest's 0700 temp dirs: persistence would silently not be saved.
            + ("user root\n" if os.geteuid() == 0 else "")
            + extra_conf
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """mqtt:// URL of the broker."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it listens."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        """Stop gracefully (saves persistence)."""
        _stop(self.proc)

    def kill(self) -> None:
        """Stop with SIGKILL."""
        _stop(self.proc, signal.SIGKILL)


class VictoriaMetrics:
    """A VictoriaMetrics single-node server; speaks the InfluxDB v2 write API."""

    def __init__(self, workdir: Path) -> None:
        """Prepare the data dir; start() runs it."""
        self.port = free_port()
        self.data = workdir / "vmdata"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "victoria-metrics.log"
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """Base HTTP URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until /health answers."""
        binary = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, f"-httpListenAddr=127.0.0.1:{self.port}",
                 f"-storageDataPath={self.data}", "-retentionPeriod=100y",
                 # One point per (series, ms): a replayed write is the same point.
                 "-dedup.minScrapeInterval=1ms", "-search.latencyOffset=0s",
                 "-loggerLevel=WARN"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("VictoriaMetrics did not become healthy")

    def stop(self) -> None:
        """Stop gracefully."""
        _stop(self.proc)

    def export(self, match: str = '{__name__=~"bin_reading_.*"}') -> Iterator[dict[str, object]]:
        """Flush, then yield every series from /api/v1/export as dicts."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=30):
            pass
        q = urllib.parse.urlencode({"match[]": match, "start": "0"})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{q}", timeout=60) as r:
            for line in r:
                if line.strip():
                    yield json.loads(line)

    def points(self) -> dict[tuple[str, int], dict[str, float]]:
        """Return {(bin, ts_ms): {field: value}} for every bin_reading point stored."""
        out: dict[tuple[str, int], dict[str, float]] = {}
        for series in self.export():
            metric = series["metric"]
            assert isinstance(metric, dict)
            field = str(metric["__name__"]).removeprefix("bin_reading_")
            values = series["values"]
            stamps = series["timestamps"]
            assert isinstance(values, list)
            assert isinstance(stamps, list)
            for ts, value in zip(stamps, values, strict=True):
                out.setdefault((str(metric["bin"]), int(ts)), {})[field] = float(value)
        return out


def points_at_least(vm: "VictoriaMetrics", n: int,
                    timeout_s: float = 30.0) -> dict[tuple[str, int], dict[str, float]]:
    """Poll until at least n points are visible (or timeout_s passed); return them all.

    VictoriaMetrics acknowledges a write before every sample is searchable, even after
    /internal/force_flush, so a read right after a write can come up short. Callers
    compare the result exactly: a real loss still fails (short after the timeout), and so
    does a surplus.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        points = vm.points()
        if len(points) >= n or time.monotonic() >= deadline:
            return points
        time.sleep(0.25)


def env_without_proxies() -> dict[str, str]:
    """Environment for child processes: no HTTP proxy may redirect loopback traffic."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
