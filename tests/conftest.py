"""Shared fixtures: `db_url` and `engine` run a test on SQLite and, when reachable, PostgreSQL.

PostgreSQL is tested only when TIANWANG_TEST_PG_URL is set; each test then gets its own schema
(`tw_test_<random>`, dropped afterwards), so tests and concurrent runs never see each other.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

PG_ENV = "TIANWANG_TEST_PG_URL"


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tianwang.db'}"
        return
    yield from _pg_schema()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL of an empty schema of its own (server mode's tests); skips without TIANWANG_TEST_PG_URL."""
    yield from _pg_schema()


def _pg_schema() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL backend not tested")
    schema = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin_url = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(base, schema)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("SET lock_timeout = '20s'")
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated engine on `db_url`."""
    from tianwang.store.db import make_engine, migrate

    eng = make_engine(db_url, tmp_path)
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def runtime(tmp_path: Path, db_url: str):
    """A runtime on `db_url` (no background threads) with the demo tenant and its key DEMO_KEY."""
    from tests.serving import open_runtime

    rt = open_runtime(tmp_path / "data", None if db_url.startswith("sqlite") else db_url)
    yield rt
    rt.close()


@pytest.fixture
def api(runtime):
    """A real server over `runtime` and an HTTP client with the demo tenant's key."""
    from tests.serving import DEMO_KEY, Client, Server

    with Server(runtime) as server, Client(server.url, DEMO_KEY) as client:
        yield client


@pytest.fixture
def second_tenant(runtime) -> str:
    """Another tenant's API key."""
    from tests.serving import add_tenant

    return add_tenant(runtime, "other_lender")


REDIS_ENV = "TIANWANG_TEST_REDIS_URL"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL and a namespace of its own (`tw_test_<random>`, deleted afterwards), so tests and
    concurrent runs never see each other's keys; skips when TIANWANG_TEST_REDIS_URL is not set."""
    base = os.environ.get(REDIS_ENV)
    if not base:
        pytest.skip(f"{REDIS_ENV} not set: Redis backend not tested")
    import redis

    ns = f"tw_test_{uuid.uuid4().hex[:12]}"
    yield f"{base}{'&' if '?' in base else '?'}namespace={ns}"
    r = redis.Redis.from_url(base)
    keys = list(r.scan_iter(match=f"{ns}:*", count=1000))
    for i in range(0, len(keys), 1000):
        r.unlink(*keys[i:i + 1000])
    r.close()
