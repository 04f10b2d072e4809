"""cloud_ingest configuration: TOML table `[ingest]`, every key overridable by environment.

Keys (env: BINFLEET_INGEST_<KEY>), with defaults:

    host = "127.0.0.1"
    port = 8080
    influx_url = ""                 # empty: embedded SQLite series store at series_path
    influx_token = ""               # InfluxDB API token (VictoriaMetrics ignores it)
    influx_org = "binfleet"
    influx_bucket = "binfleet"
    influx_timeout_s = 10.0
    series_path = "series.sqlite3"  # embedded series store, used when influx_url is empty
    state_path = "state.sqlite3"    # operational store (SQLite) when state_url is empty
    state_url = ""                  # SQLAlchemy URL of the operational store, e.g.
                                    # postgresql+psycopg://user@host/binfleet
    token_sha256 = []               # hex SHA-256 of each accepted gateway token
    open_ingest = false             # true: accept batches without a token (tests, a lab);
                                    # with no tokens and this false, every batch gets 401
    max_body_bytes = 33554432       # decompressed batch size limit (413 beyond)
    retry_after_s = 5               # Retry-After sent with 503 when the store is down
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from protocol import settings


@dataclass(frozen=True)
class IngestConfig:
    """Everything cloud_ingest reads at start; see the module docstring for meanings."""

    host: str = "127.0.0.1"
    port: int = 8080
    influx_url: str = ""
    influx_token: str = ""
    influx_org: str = "binfleet"
    influx_bucket: str = "binfleet"
    influx_timeout_s: float = 10.0
    series_path: str = "series.sqlite3"
    state_path: str = "state.sqlite3"
    state_url: str = ""
    token_sha256: tuple[str, ...] = ()
    open_ingest: bool = False
    max_body_bytes: int = 32 * 1024 * 1024
    retry_after_s: int = 5


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> IngestConfig:
    """Load the config from a TOML file (optional) and the environment."""
    return settings.load(IngestConfig, "ingest", path, os.environ if env is None else env)
