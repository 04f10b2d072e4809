"""Gateway intake throughput: QoS 1 readings made durable and acknowledged, as a ratio
to a bare paho-mqtt subscriber (receive and discard) on the same Mosquitto, same run.

    python bench/intake.py [--messages 40000] [--publishers 4]

Each run: a fresh Mosquitto with deploy/mosquitto/binfleet.conf; publisher processes
send QoS 1 messages as fast as the broker acknowledges; the clock runs from the
publishers' start until the consumer has taken every message (bare: received;
gateway: committed to SQLite and PUBACKed). The forwarder has no cloud_ingest to
reach, so this measures intake alone.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report, start_publishers
from binfleet.ports import free_port
from tests.servers import Mosquitto

BARE = r"""
import sys, time, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
port, total = int(sys.argv[1]), int(sys.argv[2])
n = 0
def on_message(c, u, m):
    global n
    n += 1
c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="bare",
                clean_session=False)
c.on_message = on_message
c.on_connect = lambda c, u, f, r, p: c.subscribe("bins/+/telemetry", qos=1)
c.connect("127.0.0.1", port)
c.loop_start()
print("ready", flush=True)
while n < total:
    time.sleep(0.01)
print("done", flush=True)
"""


def run_bare(workdir: Path, messages: int, publishers: int) -> float:
    """Seconds for a bare subscriber to receive every message."""
    broker = Mosquitto(workdir / "bare")
    broker.start()
    try:
        with subprocess.Popen([sys.executable, "-c", BARE, str(broker.port), str(messages)],
                              stdout=subprocess.PIPE, text=True) as sub:
            assert sub.stdout is not None
            assert sub.stdout.readline().strip() == "ready"
            time.sleep(0.5)
            started = time.monotonic()
            procs = start_publishers(broker.port, publishers, messages // publishers, 500,
                                     int(time.time() * 1000) - 86_400_000)
            assert sub.stdout.readline().strip() == "done"
            elapsed = time.monotonic() - started
            for p in procs:
                p.join()
            return elapsed
    finally:
        broker.kill()


def run_gateway(workdir: Path, messages: int, publishers: int) -> float:
    """Seconds for the gateway to commit and acknowledge every message."""
    broker = Mosquitto(workdir / "gw")
    broker.start()
    health = free_port()
    cfg = workdir / "gateway.toml"
    cfg.write_text(
        "[gateway]\n"
        f'mqtt_url = "{broker.url}"\n'
        f'buffer_path = "{workdir / "buffer.sqlite3"}"\n'
        f'ingest_url = "http://127.0.0.1:{free_port()}/api/v1/ingest"\n'
        "retry_min_s = 5.0\nretry_max_s = 30.0\n"
        f"health_port = {health}\n")
    log = open(workdir / "gateway.log", "wb")  # noqa: SIM115
    gw = subprocess.Popen([sys.executable, "-m", "binfleet.cli", "gateway", "--config", str(cfg)],
                          stdout=log, stderr=subprocess.STDOUT)

    def stats() -> dict[str, object]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{health}/stats", timeout=2) as r:
                return dict(json.loads(r.read()))
        except OSError:
            return {}

    try:
        while not stats().get("subscribed"):
            time.sleep(0.1)
        started = time.monotonic()
        procs = start_publishers(broker.port, publishers, messages // publishers, 500,
                                 int(time.time() * 1000) - 86_400_000)
        while True:
            counters = stats().get("counters", {})
            assert isinstance(counters, dict)
            if counters.get("acknowledged", 0) >= messages:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        for p in procs:
            p.join()
        return elapsed
    finally:
        gw.terminate()
        gw.wait()
        log.close()
        broker.kill()


def main() -> None:
    """Run both and report."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=80_000)
    ap.add_argument("--publishers", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare_s = run_bare(Path(tmp), args.messages, args.publishers)
        gw_s = run_gateway(Path(tmp), args.messages, args.publishers)
    bare_rate = args.messages / bare_s
    gw_rate = args.messages / gw_s
    ratio = gw_rate / bare_rate
    report("intake", [
        ("messages (QoS 1)", f"{args.messages} from {args.publishers} publisher processes"),
        ("bare paho subscriber", f"{bare_rate:,.0f} msg/s ({bare_s:.2f} s)"),
        ("gateway, durable + acked", f"{gw_rate:,.0f} readings/s ({gw_s:.2f} s)"),
        ("ratio gateway / bare", f"{ratio:.2f} (target >= 0.80)"),
    ], {"messages": args.messages, "publishers": args.publishers,
        "bare_msgs_per_s": round(bare_rate), "gateway_readings_per_s": round(gw_rate),
        "ratio": round(ratio, 3), "target_ratio": 0.8})


if __name__ == "__main__":
    main()
