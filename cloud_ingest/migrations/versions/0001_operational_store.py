"""The operational store's first schema.

State files written before migrations existed already hold bin_state and bin_status
(created by hand then): those are kept, and gain the columns they lack.

It creates missing tables from db.py as it is now, so a fresh store gets the newest
schema here; later migrations therefore check before they alter (0002 adds a column
only where it is missing).
"""

import sqlalchemy as sa
from alembic import op

from cloud_ingest import db

revision = "0001"
down_revision = None


def upgrade() -> None:
    """Create what is missing."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name not in existing:
            table.create(bind)
    for name in ("bin_state", "bin_status"):
        if name not in existing:
            continue
        have = {c["name"] for c in inspector.get_columns(name)}
        for column in db.metadata.tables[name].columns:
            if column.name not in have:  # all added columns are nullable
                op.add_column(name, sa.Column(column.name, column.type))
