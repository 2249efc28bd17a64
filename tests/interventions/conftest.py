"""Fixtures of the intervention tests: a runtime (SQLite, and PostgreSQL when reachable) with
the demo tenant, a held drawdown, and providers that answer what a test chooses."""

from __future__ import annotations

import pytest

from tests.serving import DEMO_KEY, open_runtime


@pytest.fixture
def runtime(tmp_path, db_url):
    rt = open_runtime(tmp_path / "data", None if db_url.startswith("sqlite") else db_url)
    yield rt
    rt.close()


@pytest.fixture
def demo(runtime):
    return runtime.tenant_for_key(DEMO_KEY)
