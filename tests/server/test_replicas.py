"""Server mode gives the embedded default's decisions: the same simulated log through one process
and through two replicas (real processes on PostgreSQL and Redis, events sent round-robin) stores
the same decision, with the same variable values, for every event."""

from __future__ import annotations

import itertools

import orjson

from tests.server.cluster import Replica, differences, stored


def test_two_replicas_store_the_embedded_decisions(tmp_path, pg_url, redis_url, sim_log, embedded):
    replicas = [Replica(tmp_path / f"r{i}", pg_url, redis_url) for i in range(2)]
    try:
        for r in replicas:
            r.wait_ready()
        for e, r in zip(sim_log, itertools.cycle(replicas)):
            res = r.client.post("/v1/events", content=orjson.dumps(e))
            assert res.status_code == 201, (e["event_id"], res.text)
    finally:
        for r in replicas:
            r.stop()
    server, server_holds = stored(pg_url, tmp_path)
    decisions, holds = embedded
    assert len(server) == len(decisions) == len(sim_log)
    differ = differences(decisions, server)
    assert not differ, differ
    assert server_holds == holds
    # The run exercised what must be shared: windows, rings (their measures count the event's own
    # links), holds, and decisions of every kind.
    assert {"pass", "review", "reject"} <= {d["outcome"] for d in decisions.values()}
    assert sum(1 for d in decisions.values() if d["values"].get("ring_size")) >= 10
    assert len(holds) >= 5
