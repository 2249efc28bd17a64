"""Server mode gives the embedded default's decisions: the same simulated log through one process
and through two replicas (real processes on PostgreSQL and Redis, events sent round-robin) stores
the same decision, with the same variable values, for every event."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson
import pytest

from tests.server.cluster import Replica, stored
from tests.serving import open_runtime
from tianwang.ingest.runtime import Tenant
from tianwang.ingest.walk import accept
from tianwang.sim.run import simulate

DEMO = Tenant("demo", "demo")


@pytest.fixture(scope="module")
def log() -> list[dict]:
    """Four days of a simulated lender of 1,500 customers (rings, attacks, late events): ~4,600 events."""
    events = list(simulate(customers=1500, days=4, seed=3))
    assert len(events) > 4000
    return events


def embedded_run(tmp_path: Path, events: list[dict]) -> tuple[dict, dict]:
    rt = open_runtime(tmp_path / "embedded", None)
    try:
        for e in events:
            accept(rt, DEMO, e).wait()
    finally:
        rt.close()
    return stored(None, tmp_path / "embedded")


def test_two_replicas_store_the_embedded_decisions(tmp_path, pg_url, redis_url, log):
    replicas = [Replica(tmp_path / f"r{i}", pg_url, redis_url) for i in range(2)]
    try:
        for r in replicas:
            r.wait_ready()
        for e, r in zip(log, itertools.cycle(replicas)):
            res = r.client.post("/v1/events", content=orjson.dumps(e))
            assert res.status_code == 201, (e["event_id"], res.text)
    finally:
        for r in replicas:
            r.stop()
    server, server_holds = stored(pg_url, tmp_path)
    embedded, embedded_holds = embedded_run(tmp_path, log)
    assert len(server) == len(embedded) == len(log)
    differ = [(k, embedded[k], server[k]) for k in embedded if embedded[k] != server[k]]
    assert not differ, differ[:3]
    assert server_holds == embedded_holds
    # The run exercised what must be shared: windows, rings (their measures count the event's own
    # links), holds, and decisions of every kind.
    outcomes = {d["outcome"] for d in embedded.values()}
    assert {"pass", "review", "reject"} <= outcomes
    assert sum(1 for d in embedded.values() if d["values"].get("ring_size")) >= 10
    assert len(embedded_holds) >= 5
