"""Server mode gives the embedded default's decisions: the same simulated log through one process
and through two replicas (real processes on PostgreSQL and Redis, events sent round-robin) stores
the same decision, with the same variable values, for every event."""

from __future__ import annotations

import itertools
import time

import orjson

from tests.monitor.expected import EVERYTHING, from_records, totals
from tests.server.cluster import Replica, differences, stored


def test_two_replicas_store_the_embedded_decisions(tmp_path, pg_url, redis_url, sim_log, embedded):
    replicas = [Replica(tmp_path / f"r{i}", pg_url, redis_url) for i in range(2)]
    worker = Replica(tmp_path / "w", pg_url, redis_url, command=("worker", "network"))
    try:
        for r in replicas:
            r.wait_ready()
        for e, r in zip(sim_log, itertools.cycle(replicas)):
            res = r.client.post("/v1/events", content=orjson.dumps(e))
            assert res.status_code == 201, (e["event_id"], res.text)
        # The decided stream carried every decision to the worker's monitoring cube, which both
        # replicas read: it counts what the records hold.
        want = from_records(pg_url, tmp_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cubes = [totals(r.client.get("/v1/monitor/cube", params=EVERYTHING).json()) for r in replicas]
            if cubes == [want, want]:
                break
            time.sleep(0.5)
        assert cubes == [want, want], worker.output()
    finally:
        for r in (*replicas, worker):
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
