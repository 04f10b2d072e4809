"""The durable buffer: SQLite in WAL mode holding readings until cloud_ingest has them.

A group of messages is committed in one transaction with synchronous=FULL (the
commit survives a power cut, not only a process kill); only after that does the
intake acknowledge them to the broker. Rows are deleted only after cloud_ingest
answered 2xx for them. Rejected input lands in `dead_letters` in the same
transaction, so it is acknowledged only once it is recorded.

Each thread opens its own Buffer on the same file (sqlite3 connections are not
shared across threads).
"""

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import BufferUnavailable
from protocol.status import StatusEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bin_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    body TEXT NOT NULL,          -- the validated v1 object as canonical JSON
    received_ms INTEGER NOT NULL,
    UNIQUE (bin_id, seq)
);
-- Keys of readings cloud_ingest confirmed, kept for the de-duplication window, so a
-- redelivery after the row left the buffer (gateway restart, bin retry) is recognised.
CREATE TABLE IF NOT EXISTS forwarded (
    bin_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    forwarded_ms INTEGER NOT NULL,
    PRIMARY KEY (bin_id, seq)
) WITHOUT ROWID;
-- Bin status events (online/offline, remote config version) waiting to be forwarded.
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bin_id TEXT NOT NULL,
    status TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    config_version INTEGER,
    config_error TEXT,
    dropped INTEGER
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""

_INSERT_EVENT = """
INSERT INTO events (bin_id, status, ts_ms, config_version, config_error, dropped)
VALUES (?, ?, ?, ?, ?, ?)
"""


# A validated bin status event to buffer: the wire type itself.
Event = StatusEvent


def _event_row(e: Event) -> tuple[str, str, int, int | None, str | None, int | None]:
    return (e.bin_id, e.status, e.ts_ms, e.config_version, e.config_error, e.dropped)


_INSERT_NEW = """
INSERT OR IGNORE INTO readings (bin_id, seq, ts_ms, body, received_ms)
SELECT ?, ?, ?, ?, ?
WHERE NOT EXISTS (SELECT 1 FROM forwarded WHERE bin_id = ? AND seq = ?)
"""

# Writers wait this long for the other thread's transaction before failing.
_BUSY_TIMEOUT_MS = 10_000
# A dead-lettered payload keeps at most this many bytes (a 1 MB junk message is evidence,
# not something to store whole).
DEAD_LETTER_KEEP_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Accepted:
    """A validated reading ready to buffer."""

    bin_id: str
    seq: int
    ts_ms: int
    body: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input that failed validation, with the field and rule it broke."""

    topic: str
    payload: bytes
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Row:
    """A buffered reading as the forwarder sees it."""

    id: int
    bin_id: str
    seq: int
    body: str


class Buffer:
    """One connection to the buffer file."""

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        """Open (and create) the buffer at `path`.

        synchronous=FULL (default): a commit survives a power cut; what the committer
        acknowledges needs this. NORMAL (WAL): survives a process crash, may roll back
        the last commits on power loss; enough for the forwarder's deletes, whose loss
        only means forwarding again (idempotent downstream).
        """
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous: must be FULL or NORMAL")
        self._db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        self._db.executescript(_SCHEMA)
        # Buffers made before events carried the config version and the dropped count
        # gain their columns.
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(events)")}
        for name, kind in (("config_version", "INTEGER"), ("config_error", "TEXT"),
                           ("dropped", "INTEGER")):
            if name not in columns:
                self._db.execute(f"ALTER TABLE events ADD COLUMN {name} {kind}")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def commit(self, items: Sequence[Accepted | Event | Rejected]) -> tuple[int, int, int]:
        """Durably store a group; return (stored, duplicates, dead-lettered).

        Raises BufferUnavailable when the disk refuses the write; then nothing is stored.
        """
        now_ms = int(time.time() * 1000)
        accepted = [(i.bin_id, i.seq, i.ts_ms, i.body, now_ms, i.bin_id, i.seq)
                    for i in items if isinstance(i, Accepted)]
        rejected = [(now_ms, i.topic, i.payload[:DEAD_LETTER_KEEP_BYTES], i.field, i.reason)
                    for i in items if isinstance(i, Rejected)]
        events = [_event_row(i) for i in items if isinstance(i, Event)]
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                # One statement for the group; a key already buffered (UNIQUE) or already
                # forwarded (the forwarded table) is a duplicate and inserts nothing.
                self._db.executemany(_INSERT_NEW, accepted)
                stored = self._db.total_changes - before
                self._db.executemany(
                    "INSERT INTO dead_letters (received_ms, topic, payload, field, reason)"
                    " VALUES (?, ?, ?, ?, ?)", rejected)
                self._db.executemany(
                    _INSERT_EVENT, events)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise BufferUnavailable(f"buffer commit failed: {e}") from e
        return stored, len(accepted) - stored, len(rejected)

    def oldest(self, limit: int, after: int = 0) -> list[Row]:
        """Return up to `limit` buffered readings with ids above `after`, oldest first.

        Ids only grow (AUTOINCREMENT), so a reading buffered later never sorts before
        one already read: `after` can skip readings whose removal is still under way.
        """
        cur = self._db.execute(
            "SELECT id, bin_id, seq, body FROM readings WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit))
        return [Row(*r) for r in cur.fetchall()]

    def oldest_events(self, limit: int, after: int = 0) -> list[tuple[int, Event]]:
        """Return up to `limit` buffered status events with ids above `after`, with their
        ids, oldest first."""
        cur = self._db.execute(
            "SELECT id, bin_id, status, ts_ms, config_version, config_error, dropped FROM events "
            "WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
        return [(r[0], Event(*r[1:])) for r in cur.fetchall()]

    def forwarded(self, rows: Sequence[Row], event_ids: Sequence[int] = ()) -> None:
        """Remove readings (and events) cloud_ingest confirmed, remembering reading keys."""
        now_ms = int(time.time() * 1000)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in event_ids])
            self._db.executemany("INSERT OR IGNORE INTO forwarded VALUES (?, ?, ?)",
                                 [(r.bin_id, r.seq, now_ms) for r in rows])
            # Contiguous ids (the usual batch) are exactly their id range: one range
            # delete instead of one per row.
            ids = [r.id for r in rows]
            if not ids:
                pass
            elif max(ids) - min(ids) + 1 == len(ids):
                self._db.execute("DELETE FROM readings WHERE id BETWEEN ? AND ?",
                                 (min(ids), max(ids)))
            else:
                self._db.executemany("DELETE FROM readings WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise BufferUnavailable(f"buffer delete failed: {e}") from e

    def prune_forwarded(self, older_than_ms: int) -> int:
        """Forget forwarded keys older than the de-duplication window; return how many."""
        try:
            cur = self._db.execute("DELETE FROM forwarded WHERE forwarded_ms < ?",
                                   (older_than_ms,))
        except sqlite3.Error as e:
            raise BufferUnavailable(f"buffer prune failed: {e}") from e
        return cur.rowcount

    def replay_dead_letter(self, letter_id: int,
                           check: Callable[[str, bytes], Accepted | Event | Rejected]
                           ) -> Accepted | Event | Rejected | None:
        """Check a dead letter again; buffer it if it now passes, else record the new reason.

        Returns None if there is no such dead letter.
        """
        row = self._db.execute("SELECT topic, payload FROM dead_letters WHERE id = ?",
                               (letter_id,)).fetchone()
        if row is None:
            return None
        result = check(row[0], bytes(row[1]))
        try:
            self._db.execute("BEGIN IMMEDIATE")
            if isinstance(result, Accepted):
                self._db.execute(
                    "INSERT OR IGNORE INTO readings (bin_id, seq, ts_ms, body, received_ms)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (result.bin_id, result.seq, result.ts_ms, result.body,
                     int(time.time() * 1000)))
                self._db.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,))
            elif isinstance(result, Event):
                self._db.execute(_INSERT_EVENT, _event_row(result))
                self._db.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,))
            else:
                self._db.execute("UPDATE dead_letters SET field = ?, reason = ? WHERE id = ?",
                                 (result.field, result.reason, letter_id))
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise BufferUnavailable(f"buffer replay failed: {e}") from e
        return result

    def dead_letter_rows(self, rows: Sequence[Row], field: str, reason: str) -> None:
        """Move buffered readings cloud_ingest rejected for good into dead_letters."""
        now_ms = int(time.time() * 1000)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for row in rows:
                self._db.execute(
                    "INSERT INTO dead_letters (received_ms, topic, payload, field, reason)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (now_ms, f"bins/{row.bin_id}/telemetry", row.body.encode(), field,
                     f"rejected by cloud_ingest: {reason}"),
                )
                self._db.execute("DELETE FROM readings WHERE id = ?", (row.id,))
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise BufferUnavailable(f"buffer dead-letter failed: {e}") from e

    def events_depth(self) -> int:
        """Return how many status events wait to be forwarded."""
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def depth(self) -> int:
        """Return how many readings wait to be forwarded."""
        return int(self._db.execute("SELECT count(*) FROM readings").fetchone()[0])

    def oldest_received_ms(self) -> int | None:
        """Return when the oldest buffered reading was received, or None if empty."""
        row = self._db.execute("SELECT received_ms FROM readings ORDER BY id LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def dead_letters(self, limit: int = 100) -> list[tuple[int, int, str, bytes, str, str]]:
        """Return the newest dead letters: (id, received_ms, topic, payload, field, reason)."""
        cur = self._db.execute(
            "SELECT id, received_ms, topic, payload, field, reason FROM dead_letters"
            " ORDER BY id DESC LIMIT ?", (limit,))
        return [tuple(r) for r in cur.fetchall()]
