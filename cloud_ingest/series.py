"""Time-series writers behind one interface: InfluxDB v2 write API, or embedded SQLite.

Schema (docs/protocol.md#time-series-schema): measurement `bin_reading`, tags
`bin`, `fw` and, for bins in the registry, `material` and `site`; one field per
present value, timestamp = the reading's ts_ms (precision ms). A point is identified
by (measurement, tags, time), so writing a reading twice changes nothing, as long as
its bin's registry entry did not change in between: register bins before they report.
"""

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision

from cloud_ingest.errors import StoreUnavailable
from protocol.v1 import Reading

MEASUREMENT = "bin_reading"
# bin_id -> (site_id, material) from the registry
Tags = dict[str, tuple[str | None, str]]
FLOAT_FIELDS = ("fill_pct", "weight_kg", "temp_c")
INT_FIELDS = ("distance_mm", "battery_mv", "quality", "flags", "seq", "quality_level",
              "spread_mm")


class SeriesWriter(Protocol):
    """Where readings' time series go. write() returns only once they are durable."""

    description: str

    def write(self, readings: Sequence[Reading], tags: Tags | None = None) -> None:
        """Store readings; raise StoreUnavailable if that is not possible now."""

    def close(self) -> None:
        """Release connections."""


def line_protocol(r: Reading, tags: Tags | None = None) -> str:
    """Return the InfluxDB line-protocol line of a reading.

    Tag values and the measurement need no escaping: bin ids and firmware versions
    are restricted to [A-Za-z0-9_.+-] by protocol.v1, site ids and materials by the
    registry (cloud_ingest/registry.py).
    """
    fields = []
    for name in FLOAT_FIELDS:
        value = getattr(r, name)
        if value is not None:
            fields.append(f"{name}={float(value)!r}")
    for name in INT_FIELDS:
        value = getattr(r, name)
        if value is not None:
            fields.append(f"{name}={value}i")
    extra = ""
    site, material = (tags or {}).get(r.bin_id, (None, None))
    if material:
        extra += f",material={material}"
    if site:
        extra += f",site={site}"
    return f"{MEASUREMENT},bin={r.bin_id},fw={r.fw}{extra} {','.join(fields)} {r.ts_ms}"


class InfluxSeriesWriter:
    """Synchronous writes through influxdb-client; failures raise, never vanish in a callback."""

    def __init__(self, url: str, token: str, org: str, bucket: str, timeout_s: float) -> None:
        """Connect lazily to an InfluxDB v2 compatible write API."""
        self.description = f"InfluxDB v2 write API at {url} (org {org}, bucket {bucket})"
        self._bucket = bucket
        self._org = org
        self._client = InfluxDBClient(url=url, token=token or "unused", org=org,
                                      timeout=int(timeout_s * 1000))
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, readings: Sequence[Reading], tags: Tags | None = None) -> None:
        """Write one batch in one request."""
        lines = [line_protocol(r, tags) for r in readings]
        try:
            self._api.write(bucket=self._bucket, org=self._org, record=lines,
                            write_precision=WritePrecision.MS)  # type: ignore[arg-type]
        except Exception as e:
            # ApiException (HTTP status) and urllib3 connection errors alike: the caller
            # answers 503 and the gateway keeps the batch.
            raise StoreUnavailable(f"time-series store write failed: {type(e).__name__}: "
                                   f"{str(e)[:200]}") from e

    def close(self) -> None:
        """Close the HTTP pool."""
        self._client.close()  # type: ignore[no-untyped-call]


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bin_reading (
    bin_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, fw TEXT NOT NULL, seq INTEGER NOT NULL,
    fill_pct REAL, distance_mm INTEGER, weight_kg REAL, battery_mv INTEGER, temp_c REAL,
    quality INTEGER NOT NULL, flags INTEGER NOT NULL,
    PRIMARY KEY (bin_id, ts_ms)
)
"""
# Columns added after the first release, added in place to older files.
_SQLITE_ADDED = (("quality_level", "INTEGER"), ("spread_mm", "INTEGER"))


class SqliteSeriesWriter:
    """Embedded store for the demo and small sites: same points, same identity."""

    def __init__(self, path: str | Path) -> None:
        """Open (and create) the series table."""
        self.description = f"embedded SQLite series store at {path}"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SQLITE_SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(bin_reading)")}
        for name, kind in _SQLITE_ADDED:
            if name not in have:
                self._db.execute(f"ALTER TABLE bin_reading ADD COLUMN {name} {kind}")

    def write(self, readings: Sequence[Reading], tags: Tags | None = None) -> None:
        """Upsert the batch in one transaction (site and material live in the registry)."""
        rows = [(r.bin_id, r.ts_ms, r.fw, r.seq, r.fill_pct, r.distance_mm, r.weight_kg,
                 r.battery_mv, r.temp_c, r.quality, r.flags, r.quality_level, r.spread_mm)
                for r in readings]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO bin_reading (bin_id, ts_ms, fw, seq, fill_pct,"
                    " distance_mm, weight_kg, battery_mv, temp_c, quality, flags, quality_level,"
                    " spread_mm) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"embedded series store write failed: {e}") from e

    def count(self) -> int:
        """Return how many points are stored."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM bin_reading").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
