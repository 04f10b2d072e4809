"""The gateway process: intake and forwarder around one buffer file.

    gw = Gateway(config.load("gateway.toml"))
    gw.start(); ...; gw.stop()
"""

import logging
import signal
import threading
import time

from gateway.buffer import Buffer
from gateway.committer import Committer
from gateway.config import GatewayConfig
from gateway.forwarder import Forwarder
from gateway.health import HealthServer
from gateway.intake import MqttIntake
from gateway.metrics import registry_for, render
from gateway.serial_intake import SerialIntake
from gateway.stats import Counters

log = logging.getLogger(__name__)

# Buffer depth in /healthz, /stats and /metrics is at most this old.
DEPTH_CACHE_S = 1.0


class Gateway:
    """Intake -> check -> buffer -> forward, wired together."""

    def __init__(self, cfg: GatewayConfig) -> None:
        """Create the buffer file if needed; start nothing yet."""
        self.cfg = cfg
        self.counters = Counters()
        Buffer(cfg.buffer_path).close()  # create schema before two threads race for it
        wake = threading.Event()
        self.committer = Committer(cfg, self.counters, wake)
        self.intake = MqttIntake(cfg, self.committer)
        self.serial = SerialIntake(cfg, self.counters, self.committer)
        self.forwarder = Forwarder(cfg, self.counters, wake)
        self._depth_lock = threading.Lock()
        self._depth_at = -DEPTH_CACHE_S
        self._depth_cached: tuple[int, int | None] = (0, None)
        self.health: HealthServer | None = None
        if cfg.health_port:
            registry = registry_for(self.counters, self._depth_and_age)
            self.health = HealthServer(cfg.health_host, cfg.health_port, self.report,
                                       lambda: render(registry))

    def start(self) -> None:
        """Start forwarding what is buffered, then take new messages."""
        self.forwarder.start()
        self.committer.start()
        self.intake.start()
        self.serial.start()
        if self.health is not None:
            self.health.start()

    def stop(self, drain_s: float = 0.0) -> None:
        """Stop intake first (nothing new is acknowledged), then the forwarder."""
        if self.health is not None:
            self.health.stop()
        self.intake.stop()
        self.serial.stop()
        self.committer.stop()
        self.forwarder.stop(drain_s)

    def report(self) -> dict[str, object]:
        """Return connection state, buffer depth and counters."""
        return {
            "connected": self.intake.connected.is_set(),
            "subscribed": self.intake.subscribed.is_set(),
            "depth": self._depth_and_age()[0],
            "counters": self.counters.snapshot(),
        }

    def _depth_and_age(self) -> tuple[int, int | None]:
        # count(*) scans the buffer: health checks and scrapes reuse a value up to
        # DEPTH_CACHE_S old rather than slow the committer under load.
        with self._depth_lock:
            now = time.monotonic()
            if now - self._depth_at >= DEPTH_CACHE_S:
                b = Buffer(self.cfg.buffer_path)
                try:
                    self._depth_cached = (b.depth(), b.oldest_received_ms())
                finally:
                    b.close()
                self._depth_at = now
            return self._depth_cached

    def depth(self) -> int:
        """Return readings buffered and not yet confirmed by cloud_ingest."""
        b = Buffer(self.cfg.buffer_path)
        try:
            return b.depth()
        finally:
            b.close()


def run_forever(cfg: GatewayConfig) -> None:
    """Run until SIGINT or SIGTERM, logging counters now and then."""
    gw = Gateway(cfg)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    gw.start()
    log.info("gateway %s: %s -> %s (buffer %s)", cfg.gateway_id, cfg.mqtt_url, cfg.ingest_url,
             cfg.buffer_path)
    last = time.monotonic()
    while not done.wait(1.0):
        if time.monotonic() - last >= 30:
            log.info("counters %s depth %d", gw.counters.snapshot(), gw.depth())
            last = time.monotonic()
    gw.stop()
    log.info("stopped; counters %s", gw.counters.snapshot())
