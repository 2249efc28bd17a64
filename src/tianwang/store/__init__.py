"""The records layer: SQL schema, migrations, repositories and the group-commit event writer.

SQLAlchemy Core on SQLite (embedded default) or PostgreSQL, one schema for both:

- `schema`     tables and column types
- `db`         `make_engine`, `migrate` (Alembic, shipped in `migrations/`)
- `writer`     `GroupCommitWriter`: the only writer of events and decisions
- `events`, `decisions`, `lists`, `policies`, `tenants`, `audit`: keyword-only repository
  functions that take a Connection and never commit (the caller does)
"""
