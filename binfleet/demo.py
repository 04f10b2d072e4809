"""`binfleet demo`: the whole data path on one machine, with embedded defaults.

Broker: amqtt in-process unless --mqtt-url is given. Series store: SQLite unless
--influx-url is given. 50 simulated bins -> gateway -> cloud_ingest, on free ports.
Ctrl-C (or --for N) stops the bins, lets the gateway forward what it buffered,
and prints how many readings each hop handled. What the gateway acknowledged is
in its buffer file and is forwarded by the next run if this one could not.
"""

import logging
import secrets
import hashlib
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from binfleet.broker import EmbeddedBroker
from binfleet.ports import free_port
from cloud_ingest.config import IngestConfig
from cloud_ingest.server import IngestServer
from gateway.config import GatewayConfig
from gateway.service import Gateway
from hardware.sim import SimFleet

log = logging.getLogger(__name__)

# At the end of a run the gateway gets this long to forward what it still holds.
DRAIN_S = 15.0


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


def run(opts: DemoOptions) -> int:
    """Run the demo until Ctrl-C or duration_s; return the exit code."""
    opts.data_dir.mkdir(parents=True, exist_ok=True)
    broker: EmbeddedBroker | None = None
    if opts.mqtt_url:
        mqtt_url = opts.mqtt_url
        _say(f"broker:       {mqtt_url} (given)")
    else:
        port = free_port()
        broker = EmbeddedBroker(port)
        broker.start()
        mqtt_url = f"mqtt://127.0.0.1:{port}"
        _say(f"broker:       embedded amqtt at {mqtt_url} (demo only)")
    token = secrets.token_urlsafe(24)
    icfg = IngestConfig(
        port=free_port(), influx_url=opts.influx_url or "", influx_token=opts.influx_token,
        influx_org=opts.influx_org, influx_bucket=opts.influx_bucket,
        series_path=str(opts.data_dir / "series.sqlite3"),
        state_path=str(opts.data_dir / "state.sqlite3"),
        token_sha256=(hashlib.sha256(token.encode()).hexdigest(),),
    )
    ingest = IngestServer(icfg)
    ingest.start()
    base = f"http://127.0.0.1:{icfg.port}"
    _say(f"cloud_ingest: {base}  (live state: {base}/api/v1/bins, API docs: {base}/docs)")
    _say(f"series store: {ingest.writer.description}")
    gcfg = GatewayConfig(gateway_id="demo", mqtt_url=mqtt_url,
                         buffer_path=str(opts.data_dir / "gateway-buffer.sqlite3"),
                         ingest_url=f"{base}/api/v1/ingest", ingest_token=token)
    gw = Gateway(gcfg)
    gw.start()
    _say(f"gateway:      buffer {gcfg.buffer_path}, {gw.depth()} readings waiting from before")
    host, port_ = urlsplit(mqtt_url).hostname or "127.0.0.1", urlsplit(mqtt_url).port or 1883
    fleet = SimFleet(opts.bins, (host, port_), opts.data_dir / "bins")
    _say(f"bins:         {opts.bins} simulated bins, one reading each every {opts.interval_s:g} s")
    _say("watch:        mosquitto_sub -v -t 'bins/#' -p " + str(port_)
         + ("   (Ctrl-C to stop)" if opts.duration_s is None else f"   (ends in {opts.duration_s:g} s)"))
    runner = threading.Thread(target=fleet.run, args=(None, opts.interval_s), daemon=True)
    runner.start()
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    try:
        while not stop.wait(5.0 if opts.duration_s is None else min(5.0, opts.duration_s)):
            if opts.duration_s is not None and time.monotonic() - started >= opts.duration_s:
                break
            c = gw.counters.snapshot()
            _say(f"  published {len(fleet.published):>7}  gateway committed {c.get('committed', 0):>7}"
                 f"  forwarded {c.get('forwarded', 0):>7}  stored {ingest.app.state.counters.values.get('readings', 0):>7}")
    finally:
        signal.signal(signal.SIGINT, previous)
        _say("stopping: bins first, then the gateway drains its buffer")
        fleet.stop()
        runner.join(timeout=30)
        gw.stop(drain_s=DRAIN_S)
        left = gw.depth()
        c = gw.counters.snapshot()
        stored = ingest.app.state.counters.values.get("readings", 0)
        ingest.stop()
        if broker is not None:
            broker.stop()
    rejected = sum(v for k, v in c.items() if k.startswith("rejected."))
    _say("")
    _say("hop                          readings")
    _say(f"bins published (PUBACK)      {len(fleet.published):>8}")
    _say(f"gateway received             {c.get('received', 0):>8}")
    _say(f"gateway committed            {c.get('committed', 0):>8}")
    _say(f"gateway duplicates dropped   {c.get('duplicates', 0):>8}")
    _say(f"gateway rejected             {rejected:>8}")
    _say(f"gateway forwarded            {c.get('forwarded', 0):>8}")
    _say(f"cloud_ingest stored          {stored:>8}")
    _say(f"left in gateway buffer       {left:>8}  (forwarded on the next run)")
    return 0


def main_demo(opts: DemoOptions) -> int:
    """Entry point used by the CLI."""
    try:
        return run(opts)
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        print(f"binfleet demo: {e}", file=sys.stderr)
        return 1
