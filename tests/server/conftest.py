"""Fixtures of the server-mode tests: one simulated log, and what the embedded default stores for it."""

from __future__ import annotations

import pytest

from tests.server.cluster import stored
from tests.serving import open_runtime
from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tianwang.sim.run import simulate

DEMO = Tenant("demo", "demo")


@pytest.fixture(scope="session")
def sim_log() -> list[dict]:
    """Four days of a simulated lender of 1,500 customers (rings, attacks, late events): ~4,600 events."""
    events = list(simulate(customers=1500, days=4, seed=3))
    assert len(events) > 4000
    return events


@pytest.fixture(scope="session")
def embedded(tmp_path_factory, sim_log) -> tuple[dict, dict]:
    """The embedded default's stored decisions and holds for `sim_log`, by event id."""
    folder = tmp_path_factory.mktemp("embedded")
    rt = open_runtime(folder, None)
    try:
        for e in sim_log:
            accept(rt, DEMO, e).wait()
    finally:
        rt.close()
    return stored(None, folder)
