"""The operational store's first schema.

State files written before migrations existed already hold bin_state and bin_status
(created by hand then): those are kept, and bin_status gains the config columns if it
lacks them.
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
    if "bin_status" in existing:
        have = {c["name"] for c in inspector.get_columns("bin_status")}
        for name, kind in (("config_version", sa.Integer()), ("config_error", sa.String(200))):
            if name not in have:
                op.add_column("bin_status", sa.Column(name, kind))
