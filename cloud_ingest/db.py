"""The operational store: registry, live state, reading history, rollups, collections.

One data layer (SQLAlchemy Core) over SQLite by default (embedded, zero setup) or
PostgreSQL when several cloud_ingest processes share it. The schema is created and
upgraded by Alembic migrations (cloud_ingest/migrations/) when the store opens, so a
new release upgrades an existing file or database in place.

    engine = open_store("sqlite:///state.sqlite3")          # or postgresql+psycopg://...
"""

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

sites = sa.Table(
    "sites", metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("lat", sa.Float), sa.Column("lon", sa.Float),
)
bins = sa.Table(
    "bins", metadata,
    sa.Column("bin_id", sa.String(32), primary_key=True),
    sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.site_id")),
    sa.Column("material", sa.String(32), nullable=False),
    sa.Column("lat", sa.Float), sa.Column("lon", sa.Float),
    sa.Column("shape", sa.String(16)),  # rectangular, cylindrical or tapered
    sa.Column("depth_mm", sa.Integer),
    sa.Column("capacity_l", sa.Float), sa.Column("capacity_kg", sa.Float),
    # How often the bin reports (radio wake-ups, not samples); offline after twice that.
    sa.Column("interval_s", sa.Integer, nullable=False),
    # How often it samples: the readings an hour should bring (data completeness).
    sa.Column("sample_s", sa.Integer, nullable=False, server_default="900"),
)
crews = sa.Table(
    "crews", metadata,
    sa.Column("crew_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("push_target", sa.String(500), nullable=False),
    sa.Column("shift_start", sa.String(5), nullable=False),  # HH:MM local
    sa.Column("shift_end", sa.String(5), nullable=False),
    sa.Column("lat", sa.Float), sa.Column("lon", sa.Float),
)
# Each bin's newest reading and how many arrived.
bin_state = sa.Table(
    "bin_state", metadata,
    sa.Column("bin_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("fill_pct", sa.Float), sa.Column("weight_kg", sa.Float),
    sa.Column("battery_mv", sa.Integer), sa.Column("temp_c", sa.Float),
    sa.Column("quality", sa.Integer, nullable=False),
    sa.Column("flags", sa.Integer, nullable=False),
    sa.Column("fw", sa.String(32), nullable=False),
    sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
    sa.Column("readings", sa.BigInteger, nullable=False),
    # The newest accepted reading with a weight: the "before" of the next emptying.
    sa.Column("acc_ts_ms", sa.BigInteger), sa.Column("acc_fill_pct", sa.Float),
    sa.Column("acc_weight_kg", sa.Float),
    # Fill-rate factor per weekday (JSON list of 7), learned at each emptying.
    sa.Column("weekly_factors", sa.String(200)),
)
bin_status = sa.Table(
    "bin_status", metadata,
    sa.Column("bin_id", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_ts_ms", sa.BigInteger, nullable=False),
    sa.Column("config_version", sa.Integer),
    sa.Column("config_error", sa.String(200)),
    # Readings the bin's flash queue had to drop, the total it last reported.
    sa.Column("dropped", sa.Integer),
)
# Recent readings per bin (history_days), each once: the key that makes replays no-ops
# and the input of rollups, collections and predictions.
readings = sa.Table(
    "readings", metadata,
    sa.Column("bin_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("fill_pct", sa.Float), sa.Column("weight_kg", sa.Float),
    sa.Column("battery_mv", sa.Integer), sa.Column("temp_c", sa.Float),
    sa.Column("quality", sa.Integer, nullable=False),
    sa.Column("flags", sa.Integer, nullable=False),
    sa.Column("spread_mm", sa.Integer),  # spread of the wake's distance samples
    sa.Column("received_ms", sa.BigInteger, nullable=False),
    # No index on (bin_id, ts_ms): per-bin scans use the primary key's bin_id prefix
    # (a bin holds a few thousand rows), and every index slows the backlog drain.
)
# Batches already taken, by id: a replayed batch is answered without touching anything.
batches = sa.Table(
    "batches", metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("received_ms", sa.BigInteger, nullable=False),
)
# Hourly rollups per bin, for charts and data completeness.
rollups = sa.Table(
    "rollups", metadata,
    sa.Column("bin_id", sa.String(32), primary_key=True),
    sa.Column("hour_ms", sa.BigInteger, primary_key=True),
    sa.Column("fill_max", sa.Float), sa.Column("fill_last", sa.Float),
    sa.Column("weight_last", sa.Float),
    sa.Column("last_ts_ms", sa.BigInteger, nullable=False),
    sa.Column("readings", sa.Integer, nullable=False),
)
# Emptyings recognised from a drop in weight (and fill).
collections = sa.Table(
    "collections", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("bin_id", sa.String(32), nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("kg_removed", sa.Float, nullable=False),
    sa.Column("weight_before", sa.Float, nullable=False),
    sa.Column("weight_after", sa.Float, nullable=False),
    sa.Column("fill_before", sa.Float), sa.Column("fill_after", sa.Float),
    sa.Column("partial", sa.Boolean, nullable=False),
    sa.UniqueConstraint("bin_id", "ts_ms", name="collections_bin_ts"),
)

# Each time a bin crossed full: what the forecast said FORECAST_HORIZON_H hours before.
forecast_checks = sa.Table(
    "forecast_checks", metadata,
    sa.Column("bin_id", sa.String(32), primary_key=True),
    sa.Column("crossed_ms", sa.BigInteger, primary_key=True),
    sa.Column("predicted_ms", sa.BigInteger, nullable=False),
    sa.Column("horizon_h", sa.Integer, nullable=False),
)

# A cut network can leave a PostgreSQL backend "idle in transaction", holding the locks
# of a batch whose client is gone, until TCP notices (hours). These session settings
# bound the damage: a statement waits at most 5 s for a lock (the batch gets 503 and
# is retried), any statement 30 s, and such a backend is ended after 30 s.
PG_SESSION_OPTIONS = ("-c lock_timeout=5000 -c statement_timeout=30000 "
                      "-c idle_in_transaction_session_timeout=30000")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def url_of(state_path: str, state_url: str) -> str:
    """The store's SQLAlchemy URL: state_url if set, else an SQLite file at state_path."""
    return state_url or f"sqlite:///{state_path}"


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache (SQLite's default is 2 MiB): a batch touches a page of the
    # readings history's key index for nearly every bin, and with a few thousand bins
    # those pages no longer fit the default; a backlog drain then reads them again and
    # again. The cache grows only as pages are used.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    # Alembic announces each of its plugins at INFO on every start; keep the migrations.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(url: str) -> Engine:
    """Connect and migrate."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True,
                                  connect_args={"options": PG_SESSION_OPTIONS})
    upgrade(engine)
    return engine
