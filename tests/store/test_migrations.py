"""Migrations: idempotent, concurrent-safe, agree with schema.py, ship inside the package."""

from __future__ import annotations

import fnmatch
import threading
import tomllib
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import tianwang
from tianwang.store.db import MIGRATIONS_DIR, VERSION_TABLE, make_engine, migrate
from tianwang.store.schema import metadata

TABLES = {"tenants", "events", "decisions", "list_entries", "policy_versions", "audit_log",
          "holds", "outbox", "ring_alerts", "ring_dispositions", "device_sightings",
          "users", "cases", "alerts", "case_notes", "labels", "interventions"}
HEAD = ["0008"]
ROOT = Path(__file__).resolve().parents[2]


def _version(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]


def test_migrate_creates_every_table_and_one_version_table(engine):
    names = set(inspect(engine).get_table_names())
    assert names == TABLES | {VERSION_TABLE}
    assert _version(engine) == HEAD


def test_migrate_twice_is_a_no_op(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, api_key_hash, created_at) "
                          "VALUES ('t', 'T', 'h', CURRENT_TIMESTAMP)"))
    before = {t: inspect(engine).get_columns(t) for t in TABLES}
    migrate(engine)
    migrate(engine)
    assert _version(engine) == HEAD
    after = {t: inspect(engine).get_columns(t) for t in TABLES}
    assert [str(c) for c in before.items()] == [str(c) for c in after.items()]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tenants")).scalar_one() == 1


def test_migrations_match_schema_module(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(ctx, metadata) == []


def test_concurrent_migrate_on_a_fresh_database(db_url, tmp_path):
    eng = make_engine(db_url, tmp_path)
    errors: list[BaseException] = []

    def run():
        try:
            migrate(eng)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert _version(eng) == HEAD
    finally:
        eng.dispose()


def test_default_engine_is_a_durable_sqlite_file(tmp_path):
    data_dir = tmp_path / "nested" / "data"
    eng = make_engine(None, data_dir)
    try:
        with eng.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("busy_timeout") >= 1000
            assert pragma("foreign_keys") == 1
        assert (data_dir / "tianwang.db").exists()
    finally:
        eng.dispose()


def test_postgresql_urls_use_psycopg3(tmp_path):
    for url in ("postgresql://u@h:5432/d", "postgres://u@h/d", "postgresql+psycopg://u@h/d"):
        eng = make_engine(url, tmp_path)
        assert eng.url.drivername == "postgresql+psycopg"
        assert eng.pool._pre_ping
        eng.dispose()


def test_migrations_ship_inside_the_package():
    package = Path(tianwang.__file__).resolve().parent
    assert MIGRATIONS_DIR.is_relative_to(package)
    assert (MIGRATIONS_DIR / "env.py").exists()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["tianwang"]
    for path in MIGRATIONS_DIR.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(rel, g) for g in globs), f"{rel} is not in pyproject package-data"
