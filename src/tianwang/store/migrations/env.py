"""Alembic env: runs online against the connection `tianwang.store.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from tianwang.store.db import VERSION_TABLE
from tianwang.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tianwang.store.db.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
