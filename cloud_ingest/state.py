"""Live state of the fleet in the operational store (cloud_ingest/db.py).

apply() folds one batch in, in one transaction: the batch id and each (bin, seq) are
taken once (a replay changes nothing), new readings go to the recent history, each
bin's newest reading to bin_state, hourly rollups are updated, and a fall in weight
between consecutive accepted readings is recorded as a collection. Status events
(online/offline, remote config version) go to bin_status.

bins() joins that with the registry and derives what operations staff act on:
online/offline against each bin's own reporting interval, fill forecast, battery days,
sensor health, density and likely contamination (cloud_ingest/analytics.py).
"""

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from cloud_ingest import analytics, db
from cloud_ingest.errors import StoreUnavailable
from protocol.status import StatusEvent
from protocol.v1 import Reading

DEFAULT_INTERVAL_S = 4 * 3600  # a bin not in the registry: the firmware's heartbeat
OFFLINE_GRACE_MS = 5 * 60_000
HISTORY_DAYS = 35
FORECAST_HORIZON_H = 24  # how far ahead past forecasts are judged
HOUR_MS = 3_600_000
_READING_COLUMNS = ("bin_id", "seq", "ts_ms", "fill_pct", "weight_kg", "battery_mv", "temp_c",
                    "quality", "flags", "spread_mm", "received_ms")
_CHUNK = 500  # rows per INSERT: 5,500 parameters, well under SQLite's limit


def _insert(conn: Connection, table: sa.Table) -> Any:
    """INSERT with ON CONFLICT support for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _mark(conn: Connection) -> str:
    """The driver's parameter marker: ? for sqlite3, %s for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


# Both SQLite and PostgreSQL take this upsert; SET expressions see the row as it was.
_ROLLUP_UPSERT = """
INSERT INTO rollups (bin_id, hour_ms, fill_max, fill_last, weight_last, last_ts_ms, readings)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (bin_id, hour_ms) DO UPDATE SET
    readings = rollups.readings + excluded.readings,
    fill_max = CASE WHEN excluded.fill_max IS NULL THEN rollups.fill_max
                    WHEN rollups.fill_max IS NULL OR excluded.fill_max > rollups.fill_max
                    THEN excluded.fill_max ELSE rollups.fill_max END,
    fill_last = CASE WHEN excluded.last_ts_ms >= rollups.last_ts_ms
                     THEN excluded.fill_last ELSE rollups.fill_last END,
    weight_last = CASE WHEN excluded.last_ts_ms >= rollups.last_ts_ms
                       THEN excluded.weight_last ELSE rollups.weight_last END,
    last_ts_ms = CASE WHEN excluded.last_ts_ms >= rollups.last_ts_ms
                      THEN excluded.last_ts_ms ELSE rollups.last_ts_ms END
"""


def _point(row: Any) -> analytics.Point:
    return analytics.Point(row.ts_ms, row.fill_pct, row.weight_kg, row.quality, row.flags)


class FleetState:
    """The fleet's live state, collections and rollups."""

    def __init__(self, engine: Engine | str) -> None:
        """Use an engine from db.open_store, or open an SQLite file at a path."""
        self.engine = engine if isinstance(engine, Engine) else db.open_store(
            db.url_of(str(engine), ""))
        self._lock = threading.Lock()  # one writer per process (SQLite takes one anyway)
        self._tags: dict[str, tuple[str | None, str]] = {}
        self._tags_at = -1.0
        self._pruned_ms = 0
        # Called with the change events of each committed batch (cloud_ingest/stream.py).
        self.listeners: list[Callable[[list[dict[str, Any]]], None]] = []

    # -- writing --

    def apply(self, readings: Sequence[Reading], now_ms: int,
              events: Sequence[StatusEvent] = (), batch_id: str | None = None) -> int:
        """Fold a batch in; return how many readings were new. StoreUnavailable on failure."""
        try:
            with self._lock, self.engine.begin() as conn:
                if batch_id is not None:
                    ins = _insert(conn, db.batches).values(batch_id=batch_id,
                                                            received_ms=now_ms)
                    if conn.execute(ins.on_conflict_do_nothing()).rowcount == 0:
                        return 0  # the whole batch was taken before
                new = self._take_readings(conn, readings, now_ms)
                self._fold(conn, new, now_ms)
                for e in events:
                    self._status(conn, e)
            self._announce(new, events)
            if now_ms - self._pruned_ms >= HOUR_MS:  # keep the history bounded
                self._pruned_ms = now_ms
                self.prune(now_ms)
            return len(new)
        except SQLAlchemyError as e:
            raise StoreUnavailable(f"operational store write failed: {type(e).__name__}: "
                                   f"{str(e)[:200]}") from e

    def _announce(self, new: list[Reading], events: Sequence[StatusEvent]) -> None:
        if not self.listeners or not (new or events):
            return
        newest: dict[str, Reading] = {}
        for r in new:
            if r.bin_id not in newest or (r.ts_ms, r.seq) > (newest[r.bin_id].ts_ms,
                                                             newest[r.bin_id].seq):
                newest[r.bin_id] = r
        out: list[dict[str, Any]] = [
            {"type": "reading", "bin_id": r.bin_id, "ts_ms": r.ts_ms, "fill_pct": r.fill_pct,
             "weight_kg": r.weight_kg, "battery_mv": r.battery_mv, "temp_c": r.temp_c,
             "quality": r.quality, "flags": r.flags} for r in newest.values()]
        out += [{"type": "status", "bin_id": e.bin_id, "status": e.status, "ts_ms": e.ts_ms,
                 "config_version": e.config_version, "config_error": e.config_error,
                 "dropped": e.dropped}
                for e in events]
        for listener in self.listeners:
            listener(out)

    def _take_readings(self, conn: Connection, readings: Sequence[Reading],
                       now_ms: int) -> list[Reading]:
        """Insert into the history; return the readings not seen before."""
        unique = {(r.bin_id, r.seq): r for r in readings}
        if not unique:
            return []
        # Multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING, written out for the
        # driver: the hot path of a backlog drain, where SQLAlchemy's per-row parameter
        # handling cost more than the database. RETURNING names the rows that were new.
        mark = _mark(conn)
        row_sql = "(" + ",".join([mark] * len(_READING_COLUMNS)) + ")"
        head = f"INSERT INTO readings ({','.join(_READING_COLUMNS)}) VALUES "  # noqa: S608
        tail = " ON CONFLICT DO NOTHING RETURNING bin_id, seq"
        items = list(unique.values())
        taken: set[tuple[str, int]] = set()
        for i in range(0, len(items), _CHUNK):
            chunk = items[i:i + _CHUNK]
            params: list[Any] = []
            for r in chunk:
                params += (r.bin_id, r.seq, r.ts_ms, r.fill_pct, r.weight_kg, r.battery_mv,
                           r.temp_c, r.quality, r.flags, r.spread_mm, now_ms)
            sql = head + ",".join([row_sql] * len(chunk)) + tail
            taken.update((b, s) for b, s in conn.exec_driver_sql(sql, tuple(params)))
        return [r for key, r in unique.items() if key in taken]

    def _fold(self, conn: Connection, new: list[Reading], now_ms: int) -> None:
        by_bin: dict[str, list[Reading]] = {}
        for r in new:
            by_bin.setdefault(r.bin_id, []).append(r)
        t = db.bin_state
        existing: dict[str, Any] = {}
        ids = sorted(by_bin)
        for i in range(0, len(ids), 500):
            for found_row in conn.execute(sa.select(t).where(t.c.bin_id.in_(ids[i:i + 500]))):
                existing[found_row.bin_id] = found_row
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        found: list[dict[str, Any]] = []
        for bin_id, rs in by_bin.items():
            rs.sort(key=lambda r: (r.ts_ms, r.seq))
            row = existing.get(bin_id)
            acc = None if row is None or row.acc_ts_ms is None else analytics.Point(
                row.acc_ts_ms, row.acc_fill_pct, row.acc_weight_kg, analytics.ACCEPTED, 0)
            acc = self._walk(conn, bin_id, rs, acc, found)
            newest = rs[-1]
            values = {"seq": newest.seq, "ts_ms": newest.ts_ms, "fill_pct": newest.fill_pct,
                      "weight_kg": newest.weight_kg, "battery_mv": newest.battery_mv,
                      "temp_c": newest.temp_c, "quality": newest.quality,
                      "flags": newest.flags, "fw": newest.fw}
            accv = {"acc_ts_ms": acc.ts_ms if acc else None,
                    "acc_fill_pct": acc.fill_pct if acc else None,
                    "acc_weight_kg": acc.weight_kg if acc else None}
            if row is None:
                inserts.append({"bin_id": bin_id, "last_seen_ms": now_ms,
                                "readings": len(rs), **values, **accv})
                continue
            if (newest.ts_ms, newest.seq) < (row.ts_ms, row.seq):
                values = {k: getattr(row, k) for k in values}
            updates.append({"b_id": bin_id, "last_seen_ms": max(now_ms, row.last_seen_ms),
                            "readings": row.readings + len(rs), **values, **accv})
        # Written through the driver's executemany: per batch this is one row per bin,
        # and SQLAlchemy's per-row parameter handling cost more than the database.
        mark = _mark(conn)
        if inserts:
            cols = list(inserts[0])
            conn.exec_driver_sql(
                f"INSERT INTO bin_state ({','.join(cols)}) "  # noqa: S608 - fixed names
                f"VALUES ({','.join([mark] * len(cols))})",
                [tuple(r[c] for c in cols) for r in inserts])
        if updates:
            cols = [k for k in updates[0] if k != "b_id"]
            conn.exec_driver_sql(
                f"UPDATE bin_state SET {','.join(f'{c}={mark}' for c in cols)} "  # noqa: S608
                f"WHERE bin_id={mark}",
                [(*(r[c] for c in cols), r["b_id"]) for r in updates])
        if found:
            conn.execute(_insert(conn, db.collections).on_conflict_do_nothing(), found)
        self._rollups(conn, new)

    def _walk(self, conn: Connection, bin_id: str, rs: list[Reading],
              acc: analytics.Point | None, found: list[dict[str, Any]]
              ) -> analytics.Point | None:
        """Emptyings along a bin's new readings (in time order) after acc, the newest
        accepted reading before them; return the new newest accepted reading."""
        for r in rs:
            if r.quality != analytics.ACCEPTED or r.weight_kg is None:
                continue
            me = analytics.Point(r.ts_ms, r.fill_pct, r.weight_kg, r.quality, r.flags)
            if acc is not None and r.ts_ms < acc.ts_ms:
                self._late(conn, bin_id, r)  # arrived after newer readings
                continue
            if acc is not None and acc.fill_pct is not None and me.fill_pct is not None and \
                    acc.fill_pct < analytics.FULL_PCT <= me.fill_pct:
                self._check_forecast(conn, bin_id, me.ts_ms)
            if acc is not None:
                e = analytics.emptying(acc, me)
                if e is not None:
                    self._learn_rhythm(conn, bin_id, e.ts_ms)
                    found.append({"bin_id": bin_id, "ts_ms": e.ts_ms, "kg_removed": e.kg_removed,
                                  "weight_before": e.weight_before,
                                  "weight_after": e.weight_after, "fill_before": e.fill_before,
                                  "fill_after": e.fill_after, "partial": e.partial})
            acc = me
        return acc

    def _learn_rhythm(self, conn: Connection, bin_id: str, at_ms: int) -> None:
        """At an emptying, learn the bin's weekday filling rhythm from its history."""
        t = db.readings
        rows = conn.execute(sa.select(t).where(
            t.c.bin_id == bin_id, t.c.ts_ms >= at_ms - HISTORY_DAYS * 86_400_000,
            t.c.ts_ms < at_ms).order_by(t.c.ts_ms)).all()
        factors = analytics.weekly_factors([_point(r) for r in rows])
        conn.execute(db.bin_state.update().where(db.bin_state.c.bin_id == bin_id).values(
            weekly_factors=None if factors is None else json.dumps(factors)))

    def _check_forecast(self, conn: Connection, bin_id: str, crossed_ms: int) -> None:
        """The bin just crossed full: record what the forecast said FORECAST_HORIZON_H
        hours earlier, from the readings it had then (since the emptying before)."""
        then = crossed_ms - FORECAST_HORIZON_H * HOUR_MS
        c, t = db.collections, db.readings
        since = conn.execute(sa.select(sa.func.max(c.c.ts_ms)).where(
            c.c.bin_id == bin_id, c.c.ts_ms <= then)).scalar() or 0
        rows = conn.execute(sa.select(t).where(t.c.bin_id == bin_id, t.c.ts_ms >= since,
                                               t.c.ts_ms <= then).order_by(t.c.ts_ms)).all()
        fc = analytics.forecast([_point(r) for r in rows], then)
        if fc is None or fc.full_at_ms is None:
            return
        ins = _insert(conn, db.forecast_checks).values(
            bin_id=bin_id, crossed_ms=crossed_ms, predicted_ms=fc.full_at_ms,
            horizon_h=FORECAST_HORIZON_H)
        conn.execute(ins.on_conflict_do_nothing())

    def _rollups(self, conn: Connection, new: list[Reading]) -> None:
        """Upsert hourly rollups, pre-aggregated per (bin, hour)."""
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        for r in new:
            key = (r.bin_id, r.ts_ms // HOUR_MS * HOUR_MS)
            g = groups.get(key)
            if g is None:
                groups[key] = {"bin_id": key[0], "hour_ms": key[1], "fill_max": r.fill_pct,
                               "fill_last": r.fill_pct, "weight_last": r.weight_kg,
                               "last_ts_ms": r.ts_ms, "readings": 1}
                continue
            g["readings"] += 1
            if r.fill_pct is not None and (g["fill_max"] is None or r.fill_pct > g["fill_max"]):
                g["fill_max"] = r.fill_pct
            if r.ts_ms >= g["last_ts_ms"]:
                g.update(fill_last=r.fill_pct, weight_last=r.weight_kg, last_ts_ms=r.ts_ms)
        if not groups:
            return
        mark = _mark(conn)
        conn.exec_driver_sql(_ROLLUP_UPSERT.replace("?", mark), [
            (g["bin_id"], g["hour_ms"], g["fill_max"], g["fill_last"], g["weight_last"],
             g["last_ts_ms"], g["readings"]) for g in groups.values()])

    def _late(self, conn: Connection, bin_id: str, r: Reading) -> None:
        """An accepted reading older than the bin's newest: check the emptyings on both
        sides of it against the history, replacing one it splits."""
        t = db.readings
        accepted = (t.c.bin_id == bin_id) & (t.c.quality == analytics.ACCEPTED) & \
            t.c.weight_kg.is_not(None)
        before = conn.execute(sa.select(t).where(accepted, t.c.ts_ms < r.ts_ms)
                              .order_by(t.c.ts_ms.desc()).limit(1)).first()
        after = conn.execute(sa.select(t).where(accepted, t.c.ts_ms > r.ts_ms)
                             .order_by(t.c.ts_ms).limit(1)).first()
        me = analytics.Point(r.ts_ms, r.fill_pct, r.weight_kg, r.quality, r.flags)
        pairs = []
        if before is not None:
            pairs.append((_point(before), me))
        if after is not None:
            pairs.append((me, _point(after)))
            conn.execute(db.collections.delete().where(
                db.collections.c.bin_id == bin_id, db.collections.c.ts_ms == after.ts_ms))
        for a, b in pairs:
            e = analytics.emptying(a, b)
            if e is not None:
                ins = _insert(conn, db.collections).values(
                    bin_id=bin_id, ts_ms=e.ts_ms, kg_removed=e.kg_removed,
                    weight_before=e.weight_before, weight_after=e.weight_after,
                    fill_before=e.fill_before, fill_after=e.fill_after, partial=e.partial)
                conn.execute(ins.on_conflict_do_nothing())

    def _status(self, conn: Connection, e: StatusEvent) -> None:
        t = db.bin_status
        row = conn.execute(sa.select(t).where(t.c.bin_id == e.bin_id)).first()
        if row is None:
            conn.execute(t.insert().values(bin_id=e.bin_id, status=e.status,
                                           status_ts_ms=e.ts_ms, config_version=e.config_version,
                                           config_error=e.config_error, dropped=e.dropped))
            return
        if e.ts_ms < row.status_ts_ms:
            return
        values: dict[str, Any] = {"status": e.status, "status_ts_ms": e.ts_ms}
        if e.config_version is not None:  # the will carries none: keep the last known
            values.update(config_version=e.config_version, config_error=e.config_error)
        if e.dropped is not None:
            values["dropped"] = e.dropped
        conn.execute(t.update().where(t.c.bin_id == e.bin_id).values(**values))

    def prune(self, now_ms: int, history_days: int = HISTORY_DAYS) -> int:
        """Drop history and batch ids older than history_days; return readings dropped."""
        cutoff = now_ms - history_days * 86_400_000
        with self._lock, self.engine.begin() as conn:
            n = conn.execute(db.readings.delete().where(db.readings.c.ts_ms < cutoff)).rowcount
            conn.execute(db.batches.delete().where(db.batches.c.received_ms < cutoff))
        return int(n)

    def series_tags(self) -> dict[str, tuple[str | None, str]]:
        """bin_id -> (site_id, material) for time-series tags, re-read every 30 s."""
        now = time.monotonic()
        if self._tags_at < 0 or now - self._tags_at > 30:
            try:
                with self.engine.connect() as conn:
                    self._tags = {b: (s, m) for b, s, m in conn.execute(
                        sa.select(db.bins.c.bin_id, db.bins.c.site_id, db.bins.c.material))}
            except SQLAlchemyError as e:
                raise StoreUnavailable(f"operational store read failed: {e}") from e
            self._tags_at = now
        return self._tags

    # -- reading --

    def bins(self, now_ms: int | None = None) -> list[dict[str, Any]]:
        """Every bin's live state: registered bins and bins that reported, by id."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self.engine.connect() as conn:
            reg = {r.bin_id: r._asdict() for r in conn.execute(sa.select(db.bins))}
            st = {r.bin_id: r._asdict() for r in conn.execute(sa.select(db.bin_state))}
            status = {r.bin_id: r._asdict() for r in conn.execute(sa.select(db.bin_status))}
            last_empty = dict(conn.execute(
                sa.select(db.collections.c.bin_id, sa.func.max(db.collections.c.ts_ms))
                .group_by(db.collections.c.bin_id)).all())
            c = db.collections
            full_ts = (sa.select(c.c.bin_id, sa.func.max(c.c.ts_ms).label("ts"))
                       .where(c.c.partial.is_(False)).group_by(c.c.bin_id).subquery())
            baseline = dict(conn.execute(
                sa.select(c.c.bin_id, c.c.weight_after).join(
                    full_ts, (full_ts.c.bin_id == c.c.bin_id) & (full_ts.c.ts == c.c.ts_ms))
            ).all())
            ids = sorted(set(reg) | set(st) | set(status))
            return [self._live(conn, i, {"reg": reg.get(i), "st": st.get(i),
                                         "status": status.get(i),
                                         "last_empty_ms": last_empty.get(i),
                                         "baseline_kg": baseline.get(i)}, now_ms)
                    for i in ids]

    def bin(self, bin_id: str, now_ms: int | None = None) -> dict[str, Any] | None:
        """One bin's live state, or None if nothing is known of it."""
        return next((b for b in self.bins(now_ms) if b["bin_id"] == bin_id), None)

    def _live(self, conn: Connection, bin_id: str, known: dict[str, Any],
              now_ms: int) -> dict[str, Any]:
        """known: the bin's registry row, state row, status row and last emptying."""
        reg, st, status = known["reg"], known["st"], known["status"]
        last_empty_ms = known["last_empty_ms"]
        out: dict[str, Any] = {"bin_id": bin_id, "registered": reg is not None}
        if reg is not None:
            out.update({k: reg[k] for k in ("site_id", "material", "lat", "lon", "capacity_l",
                                            "capacity_kg", "interval_s")})
        if st is not None:
            out.update({k: v for k, v in st.items() if k != "bin_id"})
        if status is not None:
            out.update({k: v for k, v in status.items() if k != "bin_id"})
        interval_s = reg["interval_s"] if reg is not None else DEFAULT_INTERVAL_S
        out["interval_s"] = interval_s
        last_seen = st["last_seen_ms"] if st is not None else None
        online = last_seen is not None and \
            now_ms - last_seen <= 2 * interval_s * 1000 + OFFLINE_GRACE_MS
        if online and status is not None and status["status"] == "offline" \
                and status["status_ts_ms"] > (last_seen or 0):
            online = False  # the broker published its will after the last reading
        out["online"] = online
        out["date_last_emptying_ms"] = last_empty_ms
        # What a full emptying left on the scale: the bin's empty weight as learned now.
        out["empty_baseline_kg"] = known["baseline_kg"]
        t = db.readings
        since = max(last_empty_ms or 0, now_ms - 14 * 86_400_000)
        rows = conn.execute(sa.select(t).where(t.c.bin_id == bin_id, t.c.ts_ms >= since)
                            .order_by(t.c.ts_ms)).all()
        points = [_point(r) for r in rows]
        factors = json.loads(st["weekly_factors"]) if st and st.get("weekly_factors") else None
        out["weekly_factors"] = factors
        fc = analytics.forecast(points, now_ms, factors)
        checks = conn.execute(sa.select(db.forecast_checks).where(
            db.forecast_checks.c.bin_id == bin_id).order_by(
            db.forecast_checks.c.crossed_ms.desc()).limit(5)).all()
        out["forecast_checks"] = len(checks)
        out["forecast_error_h"] = round(sum(abs(r.predicted_ms - r.crossed_ms)
                                            for r in checks) / len(checks) / HOUR_MS, 2) \
            if checks else None
        out["fill_rate_pct_per_h"] = fc.rate_pct_per_h if fc else None
        out["full_at_ms"] = fc.full_at_ms if fc else None
        out["full_at_earliest_ms"] = fc.full_at_low_ms if fc else None
        out["full_at_latest_ms"] = fc.full_at_high_ms if fc else None
        recent = [p for p in points if p.ts_ms >= now_ms - 86_400_000] or points[-20:]
        out["sensor_health"], out["sensor_faults"] = analytics.sensor_health(recent)
        week = conn.execute(sa.select(t.c.ts_ms, t.c.spread_mm).where(
            t.c.bin_id == bin_id, t.c.spread_mm.is_not(None),
            t.c.ts_ms >= now_ms - 7 * 86_400_000).order_by(t.c.ts_ms)).all()
        out["noise_rising"] = analytics.noise_rising([(a, b) for a, b in week])
        if out["noise_rising"] and "rising_noise" not in out["sensor_faults"]:
            out["sensor_faults"].append("rising_noise")
        out["blocked"] = bool(st and st["flags"] & analytics.FLAG_COVERED)
        batt = conn.execute(sa.select(t.c.ts_ms, t.c.battery_mv).where(
            t.c.bin_id == bin_id, t.c.battery_mv.is_not(None),
            t.c.ts_ms >= now_ms - 30 * 86_400_000).order_by(t.c.ts_ms)).all()
        out["battery_days"] = analytics.battery_days([(a, b) for a, b in batt])
        dens, contaminated = (None, False)
        if out.get("quality") == analytics.ACCEPTED:  # a covered sensor's fill means nothing
            dens, contaminated = analytics.density(
                out.get("material") or "mixed", out.get("weight_kg"), out.get("fill_pct"),
                out.get("capacity_l"))
        out["density_kg_per_l"] = dens
        out["likely_contamination"] = contaminated
        return out

    def rollups(self, bin_id: str, from_ms: int, to_ms: int) -> list[dict[str, Any]]:
        """Hourly rollups with data completeness (readings received / expected)."""
        with self.engine.connect() as conn:
            reg = conn.execute(sa.select(db.bins.c.sample_s)
                               .where(db.bins.c.bin_id == bin_id)).first()
            rows = conn.execute(sa.select(db.rollups).where(
                db.rollups.c.bin_id == bin_id, db.rollups.c.hour_ms >= from_ms,
                db.rollups.c.hour_ms < to_ms).order_by(db.rollups.c.hour_ms)).all()
        # Samples an hour should bring (the firmware's default: every 15 minutes). The
        # adaptive policy samples more often near full, so completeness is capped at 1.
        expected = max(1, 3600 // min(900 if reg is None else reg[0], 3600))
        return [{"hour_ms": r.hour_ms, "fill_max": r.fill_max, "fill_last": r.fill_last,
                 "weight_last": r.weight_last, "readings": r.readings, "expected": expected,
                 "completeness": round(min(1.0, r.readings / expected), 3)} for r in rows]

    def collections(self, bin_id: str | None = None, site_id: str | None = None,
                    from_ms: int = 0, to_ms: int = 2**62) -> list[dict[str, Any]]:
        """Recorded emptyings with the bin's site and material, oldest first."""
        c, b = db.collections, db.bins
        q = (sa.select(c, b.c.site_id, b.c.material).select_from(
            c.outerjoin(b, b.c.bin_id == c.c.bin_id))
            .where(c.c.ts_ms >= from_ms, c.c.ts_ms < to_ms).order_by(c.c.ts_ms, c.c.bin_id))
        if bin_id is not None:
            q = q.where(c.c.bin_id == bin_id)
        if site_id is not None:
            q = q.where(b.c.site_id == site_id)
        with self.engine.connect() as conn:
            return [{k: v for k, v in r._asdict().items() if k != "id"}
                    for r in conn.execute(q)]

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()
