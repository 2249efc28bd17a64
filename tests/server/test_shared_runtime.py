"""Two server-mode runtimes in one process, on one PostgreSQL schema and Redis namespace: what one
changes outside the walk (a policy published, a list entry) is what the other's next event sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving import DEMO_KEY, open_runtime
from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tianwang.lists.service import add_entries
from tianwang.policy import versions
from tianwang.policy.bundle import read_files

DEMO = Tenant("demo", "demo")
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "policies" / "default"


@pytest.fixture
def pair(tmp_path, pg_url, redis_url):
    a = open_runtime(tmp_path / "a", pg_url, state=redis_url)
    b = open_runtime(tmp_path / "b", pg_url, state=redis_url)
    yield a, b
    a.close()
    b.close()


def event(i: int, **more) -> dict:
    return {"event_id": f"e{i}", "scene": "login", "occurred_at": f"2026-11-25T10:{i:02d}:00+08:00",
            "customer_id": "c1", "device_id": "d1", "ip": "1.2.3.4", **more}


def test_a_policy_published_on_one_replica_decides_the_others_next_event(pair):
    a, b = pair
    assert accept(b, DEMO, event(1)).wait()["policy_version"] == 1
    files = read_files(DEFAULT_POLICY)
    files["policy.yaml"] += "\n# version 2: the same rules, published from replica a\n"
    with a.db.begin() as conn:
        version, _ = versions.publish_files(conn, tenant="demo", files=files, actor="test", note="v2")
    a.policies.published("demo")  # what the console's publish does; b runs no poll (no background threads)
    assert version == 2
    assert accept(b, DEMO, event(2)).wait()["policy_version"] == 2


def test_a_list_entry_added_on_one_replica_is_hit_on_the_other(pair):
    a, b = pair
    assert accept(b, DEMO, event(1)).wait()["outcome"] == "pass"
    add_entries(live=a.live, hasher=a.hasher, tenant="demo", raw_entries=[{"list_type": "black", "entity": "device", "value": "d1",
                                               "reason": "test"}], actor="test")
    decided = accept(b, DEMO, event(2)).wait()
    assert decided["outcome"] != "pass", decided


def test_replicas_starting_together_on_an_empty_database_all_start(tmp_path, pg_url, redis_url):
    """Each makes the demo tenant and publishes the default policy unless another did first."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        runtimes = list(pool.map(lambda i: open_runtime(tmp_path / f"r{i}", pg_url, state=redis_url), range(4)))
    try:
        assert [rt.policies.bundle("demo")[1] for rt in runtimes] == [1, 1, 1, 1]
        assert all(rt.tenants.by_key(DEMO_KEY) is not None for rt in runtimes)
    finally:
        for rt in runtimes:
            rt.close()
