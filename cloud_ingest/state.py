"""Live fleet state in the operational store (SQLite): the latest reading of every bin.

A reading replaces a bin's state only if it is newer (by ts_ms, then seq), so
replayed or late batches never move a bin back in time. `readings` counts the
readings of batches that moved the state forward.
"""

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloud_ingest.errors import StoreUnavailable
from protocol.status import StatusEvent
from protocol.v1 import Reading

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bin_state (
    bin_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
    fill_pct REAL, weight_kg REAL, battery_mv INTEGER, temp_c REAL,
    quality INTEGER NOT NULL, flags INTEGER NOT NULL, fw TEXT NOT NULL,
    last_seen_ms INTEGER NOT NULL, readings INTEGER NOT NULL
)
"""

_STATUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS bin_status (
    bin_id TEXT PRIMARY KEY, status TEXT NOT NULL, status_ts_ms INTEGER NOT NULL,
    config_version INTEGER, config_error TEXT
)
"""

# A status without a config version (the broker's "offline" will) keeps the last known
# version and error; one with a version replaces both.
_STATUS_UPSERT = """
INSERT INTO bin_status VALUES (?, ?, ?, ?, ?)
ON CONFLICT (bin_id) DO UPDATE SET status = excluded.status, status_ts_ms = excluded.status_ts_ms,
    config_version = coalesce(excluded.config_version, bin_status.config_version),
    config_error = CASE WHEN excluded.config_version IS NULL THEN bin_status.config_error
                        ELSE excluded.config_error END
WHERE excluded.status_ts_ms >= bin_status.status_ts_ms
"""

_UPSERT = """
INSERT INTO bin_state VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (bin_id) DO UPDATE SET
    seq = excluded.seq, ts_ms = excluded.ts_ms, fill_pct = excluded.fill_pct,
    weight_kg = excluded.weight_kg, battery_mv = excluded.battery_mv,
    temp_c = excluded.temp_c, quality = excluded.quality, flags = excluded.flags,
    fw = excluded.fw, last_seen_ms = excluded.last_seen_ms,
    readings = readings + excluded.readings
WHERE (excluded.ts_ms, excluded.seq) > (bin_state.ts_ms, bin_state.seq)
"""


class FleetState:
    """Latest state per bin."""

    def __init__(self, path: str | Path) -> None:
        """Open (and create) the state table."""
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.execute(_STATUS_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(bin_status)")}
        for name, kind in (("config_version", "INTEGER"), ("config_error", "TEXT")):
            if name not in columns:  # a state file from before remote config
                self._db.execute(f"ALTER TABLE bin_status ADD COLUMN {name} {kind}")

    def apply(self, readings: Sequence[Reading], now_ms: int,
              events: Sequence[StatusEvent] = ()) -> None:
        """Fold a batch into the live state: each bin's newest reading, and how many came."""
        newest: dict[str, Reading] = {}
        counts: dict[str, int] = {}
        for r in readings:
            best = newest.get(r.bin_id)
            if best is None or (r.ts_ms, r.seq) > (best.ts_ms, best.seq):
                newest[r.bin_id] = r
            counts[r.bin_id] = counts.get(r.bin_id, 0) + 1
        rows = [(r.bin_id, r.seq, r.ts_ms, r.fill_pct, r.weight_kg, r.battery_mv, r.temp_c,
                 r.quality, r.flags, r.fw, now_ms, counts[r.bin_id]) for r in newest.values()]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(_UPSERT, rows)
                self._db.executemany(_STATUS_UPSERT,
                                     [(e.bin_id, e.status, e.ts_ms, e.config_version,
                                       e.config_error) for e in events])
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"state store write failed: {e}") from e

    def bins(self) -> list[dict[str, Any]]:
        """Return every bin's latest state, with its last known status (online/offline)."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM bin_state ORDER BY bin_id")
            names = [d[0] for d in cur.description]
            out = {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}
            for bin_id, st, st_ts, version, error in self._db.execute(
                    "SELECT bin_id, status, status_ts_ms, config_version, config_error "
                    "FROM bin_status"):
                entry = out.setdefault(bin_id, {"bin_id": bin_id})
                entry["status"] = st
                entry["status_ts_ms"] = st_ts
                entry["config_version"] = version
                entry["config_error"] = error
        return [out[k] for k in sorted(out)]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
