"""Gateway configuration: one TOML table `[gateway]`, every key overridable by environment.

Keys (env: BINFLEET_GATEWAY_<KEY>), with defaults:

    gateway_id = "gw-1"                  # names this gateway in batches and its MQTT client id
    mqtt_url = "mqtt://127.0.0.1:1883"   # broker; mqtt://host:port
    topic = "bins/+/telemetry"           # subscription, QoS 1, persistent session
    mqtt_protocol = "3.1.1"              # "3.1.1" or "5"
    session_expiry_s = 3600              # MQTT 5: how long the broker keeps our session offline
    shared_group = ""                    # MQTT 5: join $share/{group}/{topic} with other gateways
    buffer_path = "gateway-buffer.sqlite3"   # SQLite (WAL) durable buffer and dead letters
    ingest_url = "http://127.0.0.1:8080/api/v1/ingest"
    ingest_token = ""                    # bearer token cloud_ingest knows (hashed) for this gateway
    batch_max = 5000                     # readings per forwarded batch (bench/backlog.py)
    commit_window_ms = 5                 # group-commit window: messages wait this long at most
    commit_max = 2000                    # messages per group commit
    retry_min_s = 0.5                    # forward retry backoff, doubled per failure, with jitter
    retry_max_s = 30.0
    http_timeout_s = 30.0
    health_port = 0                      # /healthz and /stats on 127.0.0.1:port; 0 = off
    health_host = "127.0.0.1"
    serial_ports = []                    # serial intake, e.g. ["/dev/ttyUSB0"] (pyserial URLs too)
    serial_baud = 115200
    dedup_window_s = 86400               # forwarded (bin, seq) keys are remembered this long
    max_buffer_rows = 5000000            # at this depth intake stops acknowledging (backpressure)
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from protocol import settings
from protocol.errors import ProtocolError


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the gateway reads at start; see the module docstring for meanings."""

    gateway_id: str = "gw-1"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    topic: str = "bins/+/telemetry"
    mqtt_protocol: str = "3.1.1"
    session_expiry_s: int = 3600
    shared_group: str = ""
    buffer_path: str = "gateway-buffer.sqlite3"
    ingest_url: str = "http://127.0.0.1:8080/api/v1/ingest"
    ingest_token: str = ""
    batch_max: int = 5000
    commit_window_ms: int = 5
    commit_max: int = 2000
    retry_min_s: float = 0.5
    retry_max_s: float = 30.0
    http_timeout_s: float = 30.0
    health_port: int = 0
    health_host: str = "127.0.0.1"
    serial_ports: tuple[str, ...] = ()
    serial_baud: int = 115200
    dedup_window_s: int = 86400
    max_buffer_rows: int = 5_000_000

    def __post_init__(self) -> None:
        """Check ranges once, at load."""
        self.mqtt_address()
        if self.mqtt_protocol not in ("3.1.1", "5"):
            raise ProtocolError("gateway.mqtt_protocol", 'must be "3.1.1" or "5"',
                                self.mqtt_protocol)
        if self.shared_group and self.mqtt_protocol != "5":
            raise ProtocolError("gateway.shared_group", 'needs mqtt_protocol = "5"')
        if self.shared_group and any(c in self.shared_group for c in "/+#"):
            raise ProtocolError("gateway.shared_group", "must not contain / + #",
                                self.shared_group)
        for key in ("batch_max", "commit_max", "max_buffer_rows", "dedup_window_s"):
            if getattr(self, key) < 1:
                raise ProtocolError(f"gateway.{key}", "must be >= 1", getattr(self, key))
        if not 0 <= self.commit_window_ms <= 1000:
            raise ProtocolError("gateway.commit_window_ms", "must be 0..1000",
                                self.commit_window_ms)
        if not 0 < self.retry_min_s <= self.retry_max_s:
            raise ProtocolError("gateway.retry_min_s", "must be > 0 and <= retry_max_s")

    def subscription(self) -> str:
        """Return the topic filter to subscribe to (shared if shared_group is set)."""
        if self.shared_group:
            return f"$share/{self.shared_group}/{self.topic}"
        return self.topic

    def mqtt_address(self) -> tuple[str, int]:
        """Return (host, port) of mqtt_url."""
        parts = urlsplit(self.mqtt_url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ProtocolError("gateway.mqtt_url", "must look like mqtt://host:port",
                                self.mqtt_url)
        return parts.hostname, parts.port or 1883


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Load the gateway config from a TOML file (optional) and the environment."""
    return settings.load(GatewayConfig, "gateway", path, os.environ if env is None else env)
