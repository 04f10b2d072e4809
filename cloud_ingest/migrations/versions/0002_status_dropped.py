"""bin_status.dropped: readings a bin's flash queue had to drop, as it last reported.

A store created at this revision or later already has it (0001 creates tables from
db.py as it is now); one created before gains it here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Add the column where it is missing."""
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("bin_status")}
    if "dropped" not in have:
        op.add_column("bin_status", sa.Column("dropped", sa.Integer))


def downgrade() -> None:
    """Drop it again."""
    op.drop_column("bin_status", "dropped")
