"""Fixtures of the case tests: a runtime (tests/conftest.py) with the demo tenant, another tenant, and console users."""

from __future__ import annotations

import pytest

from tests.serving import DEMO_KEY, add_tenant
from tianwang.store import users as users_repo


@pytest.fixture
def demo(runtime):
    return runtime.tenants.by_key(DEMO_KEY)


@pytest.fixture
def other_tenant(runtime):
    add_tenant(runtime, "other_lender")
    return "other_lender"


@pytest.fixture
def investigators(runtime):
    with runtime.db.begin() as conn:
        for name, role in (("inv.zhang", "investigator"), ("boss", "admin"), ("ana", "analyst")):
            users_repo.create_user(conn, tenant="demo", username=name, password_hash="x", role=role)
