"""Operational-store fixtures: an SQLite file, and a fresh database on the machine's
PostgreSQL (127.0.0.1:5432, trust auth), created for the test and dropped after."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from cloud_ingest import db

PG_ADMIN = os.environ.get("BINFLEET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_database() -> Iterator[str]:
    name = f"binfleet_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.skip(f"PostgreSQL not available at {PG_ADMIN}: {e}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") \
            + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated operational store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        engine = db.open_store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
        yield engine
        engine.dispose()
        return
    gen = _pg_database()
    url = next(gen)
    engine = db.open_store(url)
    try:
        yield engine
    finally:
        engine.dispose()
        gen.close()
