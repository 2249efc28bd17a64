"""Engines and migrations: `make_engine` (SQLite file by default, or PostgreSQL) and `migrate`.

SQLite is tuned for "acknowledged means durable": WAL, `synchronous=FULL`, a busy timeout, and
writes that begin with `BEGIN IMMEDIATE` (one writer at a time, readers in parallel) so a write
never fails half-way on a lock it could have waited for.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from tianwang.store.schema import json_dumps, json_loads

VERSION_TABLE = "tianwang_alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "tianwang.db"
BUSY_TIMEOUT_MS = 10_000
# Serialises concurrent `migrate` calls of several replicas on one PostgreSQL database.
_PG_MIGRATE_LOCK = 0x7469616E  # "tian"


def make_engine(url: str | None, data_dir: Path) -> Engine:
    """An engine for `url`, or for the SQLite file `data_dir/tianwang.db` when `url` is None."""
    if url is None:
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / SQLITE_FILE}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    parsed = make_url(url)
    common = dict(json_serializer=json_dumps, json_deserializer=json_loads)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **common)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **common)


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
    # pysqlite opens a transaction lazily before the first INSERT/UPDATE/DELETE; make that
    # BEGIN IMMEDIATE so the write lock is taken (waiting up to busy_timeout) before any write.
    dbapi_conn.isolation_level = "IMMEDIATE"


def alembic_config() -> Config:
    """An Alembic config built in code, pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_table", VERSION_TABLE)
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema; idempotent, safe to call on every start."""
    cfg = alembic_config()
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # DDL does not open pysqlite's implicit transaction: open one ourselves, so the
            # migration is all-or-nothing and two processes cannot run it at once.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
