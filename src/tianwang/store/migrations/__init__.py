"""Alembic environment of the records schema; run it through `tianwang.store.db.migrate`."""
