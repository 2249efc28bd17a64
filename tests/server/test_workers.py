"""Two `tianwang worker network` processes on one deployment: they take turns (a lease on
PostgreSQL), so each notification reaches the lending system once and in order, and when the one
delivering is killed the other goes on."""

from __future__ import annotations

import time

from tests.server.cluster import Replica
from tests.serving import Receiver
from tianwang.store import outbox
from tianwang.store import tenants as tenant_repo
from tianwang.store.db import make_engine


def _notify(engine, n: int, start: int) -> None:
    with engine.begin() as conn:
        for i in range(start, start + n):
            outbox.add(conn, tenant="demo", topic="hold.released", key=f"hold:e{i}", payload={"event_id": f"e{i}"})


def _wait_for(receiver: Receiver, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.requests) < n:
        assert time.monotonic() < deadline, f"{len(receiver.requests)} of {n} delivered"
        time.sleep(0.1)
    time.sleep(2.5)  # two more rounds of each worker: a second sender would show now


def test_two_workers_deliver_each_notification_once_in_order(tmp_path, pg_url, redis_url):
    Replica(tmp_path / "api", pg_url, redis_url).wait_ready().stop()  # migrations, the demo tenant
    engine = make_engine(pg_url, tmp_path)
    receiver = Receiver()
    with engine.begin() as conn:
        tenant_repo.set_webhook(conn, id="demo", url=receiver.url, secret="s3cret")
    workers = [Replica(tmp_path / f"w{i}", pg_url, redis_url, command=("worker", "network")) for i in range(2)]
    try:
        _notify(engine, 40, 0)
        _wait_for(receiver, 40)
        workers[0].kill()  # whichever held the lease: a killed session's lock goes with it
        _notify(engine, 40, 40)
        _wait_for(receiver, 80)
        assert workers[1].proc.poll() is None
    finally:
        for w in workers:
            w.stop()
        receiver.close()
        engine.dispose()
    ids = receiver.ids()
    assert len(ids) == 80 and ids == sorted(ids) and len(set(ids)) == 80, ids
