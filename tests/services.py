"""Start BinFleet's own services as real processes (`binfleet gateway`, `binfleet ingest`)."""

import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from binfleet.ports import free_port
from tests.servers import env_without_proxies, wait_port

TOKEN = "test-gateway-token"
# How long report() keeps asking a gateway that does not answer.
REPORT_PATIENCE_S = 15.0
# Every process a test started; tests/conftest.py kills what is still running after it.
RUNNING: list["Service"] = []


class Service:
    """A `binfleet <command> --config FILE` child process."""

    def __init__(self, command: str, config_text: str, workdir: Path) -> None:
        """Write the config; start() runs the process."""
        workdir.mkdir(parents=True, exist_ok=True)
        self.command = command
        self.config = workdir / f"{command}.toml"
        self.config.write_text(config_text)
        self.log = workdir / f"{command}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        # Command prefix, e.g. ["fiu-run", "-x"] to inject faults into the process.
        self.wrapper: list[str] = []

    def start(self) -> None:
        """Start the process, logging to a file."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.wrapper, sys.executable, "-m", "binfleet.cli", command_of(self.command),
                 "--config", str(self.config)], stdout=log, stderr=subprocess.STDOUT,
                env=env_without_proxies())
        RUNNING.append(self)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def command_of(name: str) -> str:
    """Return the CLI subcommand for a service name."""
    return name


class Ingest(Service):
    """cloud_ingest on a free port writing to an InfluxDB v2 API (or embedded SQLite)."""

    def __init__(self, workdir: Path, influx_url: str = "", extra: str = "") -> None:
        """Configure with the test token and a free port."""
        self.port = free_port()
        digest = hashlib.sha256(TOKEN.encode()).hexdigest()
        super().__init__("ingest", (
            "[ingest]\n"
            f"port = {self.port}\n"
            f'influx_url = "{influx_url}"\n'
            f'series_path = "{workdir / "series.sqlite3"}"\n'
            f'state_path = "{workdir / "state.sqlite3"}"\n'
            f'token_sha256 = ["{digest}"]\n'
            "retry_after_s = 1\n" + extra), workdir)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait for /healthz."""
        super().start()
        wait_port(self.port)
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as r:
            assert r.status == 200


class GatewayProcess(Service):
    """The gateway reading a broker and forwarding to an Ingest."""

    def __init__(self, workdir: Path, mqtt_url: str, ingest_url: str,
                 gateway_id: str = "gw-test", extra: str = "") -> None:
        """Configure; the buffer lives in workdir."""
        self.buffer_path = workdir / "buffer.sqlite3"
        self.health_port = free_port()
        super().__init__("gateway", (
            "[gateway]\n"
            f'gateway_id = "{gateway_id}"\n'
            f'mqtt_url = "{mqtt_url}"\n'
            f'buffer_path = "{self.buffer_path}"\n'
            f'ingest_url = "{ingest_url}/api/v1/ingest"\n'
            f'ingest_token = "{TOKEN}"\n'
            "retry_min_s = 0.2\n"
            "retry_max_s = 2.0\n"
            f"health_port = {self.health_port}\n" + extra), workdir)

    def report(self, patience_s: float = REPORT_PATIENCE_S) -> dict[str, Any]:
        """Return the gateway's /stats; {} if it has not answered within patience_s.

        A busy machine can make one request slow; retrying keeps a test from failing
        on a missing key when the gateway was merely late.
        """
        url = f"http://127.0.0.1:{self.health_port}/stats"
        deadline = time.monotonic() + patience_s
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return dict(json.loads(r.read()))
            except OSError:
                exited = self.proc is not None and self.proc.poll() is not None
                if exited or time.monotonic() >= deadline:
                    return {}
                time.sleep(0.2)

    def metrics(self) -> str:
        """Return the gateway's /metrics text."""
        url = f"http://127.0.0.1:{self.health_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:
            return str(r.read().decode())

    def start(self, wait_subscribed: bool = True) -> None:
        """Start; by default wait until the broker granted the subscription."""
        super().start()
        if wait_subscribed:
            wait_for(lambda: self.report(patience_s=1).get("subscribed"), 30,
                     "gateway subscribed")


def wait_for(predicate: "object", timeout_s: float, what: str) -> None:
    """Poll predicate() until true; fail with `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def pipeline(tmp_path: Path, mqtt_url: str, influx_url: str, *, gw_extra: str = "",
             ingest_extra: str = "", start_ingest: bool = True) -> tuple[Ingest, GatewayProcess]:
    """cloud_ingest (started unless told not to) and a gateway feeding it (started)."""
    ingest = Ingest(tmp_path / "ingest", influx_url=influx_url, extra=ingest_extra)
    if start_ingest:
        ingest.start()
    gw = GatewayProcess(tmp_path / "gw", mqtt_url, ingest.url, extra=gw_extra)
    gw.start()
    return ingest, gw
