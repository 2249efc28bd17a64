"""One simulated run shared by the network tests that need one (5,000 customers, 14 days, attacks ×5)."""

from __future__ import annotations

import pytest

from tests.network.helpers import sim_records


@pytest.fixture(scope="session")
def sim_run() -> list[tuple[dict, dict]]:
    return list(sim_records(5000, 14, seed=3, volume=5))
