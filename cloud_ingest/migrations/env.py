"""Alembic environment: migrations run on the connection cloud_ingest.db.upgrade passes."""

from alembic import context

from cloud_ingest.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
