"""Fixtures of the intervention tests: a runtime (SQLite, and PostgreSQL when reachable) with
the demo tenant, a held drawdown, and providers that answer what a test chooses."""

from __future__ import annotations

import pytest

from tests.serving import DEMO_KEY


@pytest.fixture
def demo(runtime):
    return runtime.tenants.by_key(DEMO_KEY)
