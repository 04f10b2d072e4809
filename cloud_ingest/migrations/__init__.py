"""Alembic migrations of the operational store (run by cloud_ingest.db.upgrade)."""
