"""`binfleet demo`: the whole data path on one machine, with embedded defaults.

Broker: amqtt in-process unless --mqtt-url is given. Series store: SQLite unless
--influx-url is given. 50 simulated bins -> gateway -> cloud_ingest, on free ports.
Ctrl-C (or --for N) stops the bins, lets the gateway forward what it buffered,
and prints how many readings each hop handled. What the gateway acknowledged is
in its buffer file and is forwarded by the next run if this one could not.
"""

import hashlib
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from binfleet.broker import EmbeddedBroker
from binfleet.ports import free_port
from cloud_ingest import registry
from cloud_ingest.config import IngestConfig
from cloud_ingest.server import IngestServer
from gateway.config import GatewayConfig
from gateway.service import Gateway
from hardware.sim import SimFleet

# At the end of a run the gateway gets this long to forward what it still holds.
DRAIN_S = 15.0
# Seconds between progress lines.
PROGRESS_S = 5.0


def _register_demo_fleet(engine: Engine, bins: int) -> None:
    """Two sites and the simulated bins in the registry, placed around a town centre,
    so the fleet state and the NGSI-LD export show sites, materials and locations."""
    materials = ("paper", "glass", "plastic", "mixed")
    sites = [{"site_id": "north", "name": "North depot", "lat": 52.40, "lon": 4.89},
             {"site_id": "south", "name": "South square", "lat": 52.35, "lon": 4.90}]
    rows = [{"bin_id": f"bin-{i:04d}", "site_id": sites[i % 2]["site_id"],
             "material": materials[i % len(materials)],
             "lat": round(52.35 + 0.05 * ((i * 37) % 100) / 100, 5),
             "lon": round(4.85 + 0.08 * ((i * 61) % 100) / 100, 5), "depth_mm": 1000,
             "capacity_l": 1100.0, "capacity_kg": 150.0, "interval_s": 60, "sample_s": 60}
            for i in range(1, bins + 1)]
    registry.import_rows(engine, "sites", sites)
    registry.import_rows(engine, "bins", rows)
    _say(f"registry:     2 sites, {bins} bins (binfleet fleet import for your own)")


@dataclass(frozen=True)
class DemoOptions:
    """What `binfleet demo` was asked to do."""

    bins: int = 50
    interval_s: float = 1.0
    duration_s: float | None = None
    data_dir: Path = Path(".binfleet-demo")
    mqtt_url: str | None = None
    influx_url: str | None = None
    influx_token: str = ""
    influx_org: str = "binfleet"
    influx_bucket: str = "binfleet"


def _say(text: str) -> None:
    print(text, flush=True)


class Demo:
    """The running parts of one demo."""

    def __init__(self, opts: DemoOptions) -> None:
        """Start broker (unless given), cloud_ingest and the gateway."""
        self.opts = opts
        opts.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker: EmbeddedBroker | None = None
        if opts.mqtt_url:
            self.mqtt_url = opts.mqtt_url
            _say(f"broker:       {self.mqtt_url} (given)")
        else:
            port = free_port()
            self.broker = EmbeddedBroker(port)
            self.broker.start()
            self.mqtt_url = f"mqtt://127.0.0.1:{port}"
            _say(f"broker:       embedded amqtt at {self.mqtt_url} (demo only)")
        token = secrets.token_urlsafe(24)
        icfg = IngestConfig(
            port=free_port(), influx_url=opts.influx_url or "", influx_token=opts.influx_token,
            influx_org=opts.influx_org, influx_bucket=opts.influx_bucket,
            series_path=str(opts.data_dir / "series.sqlite3"),
            state_path=str(opts.data_dir / "state.sqlite3"),
            token_sha256=(hashlib.sha256(token.encode()).hexdigest(),),
        )
        self.ingest = IngestServer(icfg)
        self.ingest.start()
        _register_demo_fleet(self.ingest.state.engine, opts.bins)
        base = f"http://127.0.0.1:{icfg.port}"
        _say(f"cloud_ingest: {base}  (live state {base}/api/v1/bins, API docs {base}/docs)")
        _say(f"series store: {self.ingest.writer.description}")
        gcfg = GatewayConfig(gateway_id="demo", mqtt_url=self.mqtt_url,
                             buffer_path=str(opts.data_dir / "gateway-buffer.sqlite3"),
                             ingest_url=f"{base}/api/v1/ingest", ingest_token=token)
        self.gateway = Gateway(gcfg)
        self.gateway.start()
        _say(f"gateway:      buffer {gcfg.buffer_path}, "
             f"{self.gateway.depth()} readings waiting from before")

    def stored(self) -> int:
        """Readings cloud_ingest has written."""
        return int(self.ingest.app.state.counters.values.get("readings", 0))

    def run_bins(self, stop: threading.Event) -> SimFleet:
        """Publish from the simulated bins until stop is set or the duration is over."""
        url = urlsplit(self.mqtt_url)
        fleet = SimFleet(self.opts.bins, (url.hostname or "127.0.0.1", url.port or 1883),
                         self.opts.data_dir / "bins")
        until = ("Ctrl-C to stop" if self.opts.duration_s is None
                 else f"ends in {self.opts.duration_s:g} s")
        _say(f"bins:         {self.opts.bins} simulated bins, a reading each every "
             f"{self.opts.interval_s:g} s ({until})")
        _say(f"watch:        mosquitto_sub -v -t 'bins/#' -p {url.port or 1883}")
        # Wait for the gateway's subscription so the first readings are queued for it.
        self.gateway.intake.subscribed.wait(timeout=30)
        runner = threading.Thread(target=fleet.run, args=(None, self.opts.interval_s),
                                  daemon=True)
        runner.start()
        started = time.monotonic()
        while not stop.wait(PROGRESS_S):
            c = self.gateway.counters.snapshot()
            _say(f"  published {len(fleet.published):>7}   gateway committed "
                 f"{c.get('committed', 0):>7}   forwarded {c.get('forwarded', 0):>7}   "
                 f"stored {self.stored():>7}")
            if self.opts.duration_s is not None and \
                    time.monotonic() - started + PROGRESS_S > self.opts.duration_s:
                stop.wait(max(0.0, self.opts.duration_s - (time.monotonic() - started)))
                break
        _say("stopping: bins first, then the gateway drains its buffer")
        fleet.stop()
        runner.join(timeout=30)
        return fleet

    def close(self) -> tuple[dict[str, int], int, int]:
        """Stop everything; return (gateway counters, readings stored, left in buffer)."""
        self.gateway.stop(drain_s=DRAIN_S)
        left = self.gateway.depth()
        counters = self.gateway.counters.snapshot()
        stored = self.stored()
        self.ingest.stop()
        if self.broker is not None:
            self.broker.stop()
        return counters, stored, left


def _summary(published: int, c: dict[str, int], stored: int, left: int) -> None:
    rejected = sum(v for k, v in c.items() if k.startswith("rejected."))
    rows = [
        ("bins published (PUBACK)", published),
        ("gateway received (messages, with status)", c.get("received", 0)),
        ("gateway committed", c.get("committed", 0)),
        ("gateway duplicates dropped", c.get("duplicates", 0)),
        ("gateway rejected (dead letters)", rejected),
        ("gateway forwarded", c.get("forwarded", 0)),
        ("cloud_ingest stored", stored),
        ("left in gateway buffer", left),
    ]
    _say("")
    _say(f"{'hop':<42}   count")
    for name, n in rows:
        _say(f"{name:<42}{n:>8}")
    if left:
        _say("(what is left is forwarded by the next run with the same --data-dir)")


def run(opts: DemoOptions) -> int:
    """Run the demo until Ctrl-C or duration_s; return the exit code."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    demo = Demo(opts)
    published = 0
    try:
        fleet = demo.run_bins(stop)
        published = len(fleet.published)
    finally:
        signal.signal(signal.SIGINT, previous)
        counters, stored, left = demo.close()
    _summary(published, counters, stored, left)
    return 0


def main_demo(opts: DemoOptions) -> int:
    """Entry point used by the CLI."""
    try:
        return run(opts)
    except OSError as e:
        print(f"binfleet demo: {e}", file=sys.stderr)
        return 1
