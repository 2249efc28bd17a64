"""The decided stream of server mode (Redis Streams, consumer group `cube`): every stored decision
reaches the monitoring cube once, whichever worker dies where, and a cube Redis lost is refilled
from the records. Real PostgreSQL and Redis. Most consumers run in this process, so that each one
can be stopped at an exact point (between reading and counting, between counting and
acknowledging); the last test runs a replica and workers as real processes."""

from __future__ import annotations

import time

import pytest
import redis

from tests.monitor.expected import from_records
from tests.serving import open_runtime
from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tianwang.monitor.cube import MINUTE_MS, report
from tianwang.monitor.feed import GROUP, CubeConsumer, record_facts
from tianwang.state.redis import split_url

DEMO = Tenant("demo", "demo")


class Killed(Exception):
    """A consumer stopped where a kill -9 would stop it."""


@pytest.fixture
def replica(tmp_path, pg_url, redis_url):
    rt = open_runtime(tmp_path / "r", pg_url, state=redis_url)
    yield rt
    rt.close()


def consumer(rt, **kw) -> CubeConsumer:
    return CubeConsumer(rt.stream_url, rt.cube, record_facts(rt.db, rt.cube.retention_s), block_ms=50, **kw)


def drain(c: CubeConsumer, r: redis.Redis, key: bytes, *, timeout: float = 30) -> None:
    """Run rounds until nothing is pending in the group and nothing new is left to read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = c.run_once()
        groups = {g["name"]: g for g in r.xinfo_groups(key)}
        last = r.xrevrange(key, count=1)
        group = groups.get(GROUP)
        if got == 0 and group is not None and group["pending"] == 0 and (
                not last or group["last-delivered-id"] == last[0][0]):
            return
        time.sleep(0.02)
    raise AssertionError(f"not drained in {timeout}s: {r.xpending(key, GROUP)}")


def stream_of(rt) -> tuple[redis.Redis, bytes]:
    """A client of the replica's stream Redis, and the decided stream's key."""
    client_url, ns = split_url(rt.stream_url)
    return redis.Redis.from_url(client_url), f"{ns}:decided".encode()


def walked(rt, events: list[dict]) -> tuple[CubeConsumer, redis.Redis, bytes]:
    """A worker's consumer that has started (the empty cube marked as holding the records), then
    `events` walked; with the stream's client and key."""
    c = consumer(rt)
    c.run_once()
    for e in events:
        accept(rt, DEMO, e).wait()
    return (c, *stream_of(rt))


def cube_totals(rt) -> dict:
    """The totals of the tenant's whole cube (the simulated days lie within 40 days of its newest minute)."""
    newest = rt.cube.newest("demo")
    assert newest is not None
    first = newest - 60 * 24 * 40
    body = report(rt.cube.cells("demo", first, newest), start_ms=first * MINUTE_MS, end_ms=(newest + 1) * MINUTE_MS,
                  step="day")
    x = body["totals"]
    return {"decisions": x["decisions"], "outcomes": x["outcomes"], "reasons": x["reasons"], "fallbacks": x["fallbacks"]}


def test_entries_of_dead_consumers_are_claimed_and_counted_once(replica, sim_log, pg_url, tmp_path):
    rt = replica
    counted_then_killed = consumer(rt, claim_s=0.5, count=200, name="a")
    read_then_killed = consumer(rt, claim_s=0.5, count=300, name="b")
    survivor = consumer(rt, claim_s=0.5, count=250, name="c")
    for c in (counted_then_killed, read_then_killed, survivor):
        assert c.run_once() == 0  # the workers start: an empty cube, marked as holding the (no) records
    log = sim_log[:1500]
    for e in log:
        accept(rt, DEMO, e).wait()
    r, key = stream_of(rt)
    assert r.xlen(key) == len(log)  # one entry per stored decision, appended before it was answered
    assert rt.feed.behind() == {"entries": len(log), "unacknowledged": 0}  # what GET /v1/monitor/cube says

    def killed(ids):
        raise Killed

    counted_then_killed.before_ack = killed  # dies after counting 200, before acknowledging them
    with pytest.raises(Killed):
        counted_then_killed.run_once()
    assert counted_then_killed.counted == 200
    read_then_killed._read()  # dies after reading 300, before counting them
    pending = {c["name"]: c["pending"] for c in r.xinfo_consumers(key, GROUP)}
    assert pending == {b"a": 200, b"b": 300}

    assert rt.feed.behind() == {"entries": len(log) - 500, "unacknowledged": 500}
    drain(survivor, r, key)
    assert rt.feed.behind() == {"entries": 0, "unacknowledged": 0}
    # the survivor took over both dead consumers' entries: 500 delivered twice, none counted twice
    assert survivor.acknowledged == len(log)
    assert counted_then_killed.counted + survivor.counted == len(log)
    assert cube_totals(rt) == from_records(pg_url, tmp_path) and from_records(pg_url, tmp_path)["decisions"] == len(log)


def test_a_repeat_is_appended_again_and_counted_once(replica, sim_log, pg_url, tmp_path):
    rt = replica
    c, r, key = walked(rt, sim_log[:300])
    drain(c, r, key)
    for e in sim_log[:40]:  # the lender's retries: answered from the record, appended again
        assert accept(rt, DEMO, e).wait()["duplicate"] is True
    rt.feed.flush()  # what the replica's next committed batch does
    assert r.xlen(key) == 340
    drain(c, r, key)
    assert c.acknowledged == 340 and c.counted == 300
    assert cube_totals(rt) == from_records(pg_url, tmp_path)


def test_a_cube_lost_with_redis_is_refilled_from_the_records(replica, sim_log, pg_url, tmp_path):
    rt = replica
    for e in sim_log[:600]:
        accept(rt, DEMO, e).wait()
    c = consumer(rt)
    r, key = stream_of(rt)
    drain(c, r, key)
    # Redis restarted empty, as far as the cube and the stream go: every key and the group gone
    lost = list(r.scan_iter(match=key.replace(b":decided", b":cube:*"))) + [key]
    assert r.unlink(*lost) > 3
    for e in sim_log[600:650]:
        accept(rt, DEMO, e).wait()
    drain(c, r, key)
    assert cube_totals(rt) == from_records(pg_url, tmp_path)
    assert from_records(pg_url, tmp_path)["decisions"] == 650


def test_a_malformed_entry_is_acknowledged_and_skipped(replica, sim_log):
    rt = replica
    c, r, key = walked(rt, sim_log[:20])
    r.xadd(key, {b"f": b"{not json"})
    r.xadd(key, {b"f": b'["demo", "x", "minute?", []]'})
    r.xadd(key, {b"other": b"1"})
    drain(c, r, key)
    assert c.acknowledged == 23 and c.counted == 20


def test_the_stream_on_a_redis_of_its_own(tmp_path, pg_url, redis_url):
    """--stream names another Redis for the decided stream and the cube; /readyz checks it by name."""
    from fastapi.testclient import TestClient

    from tianwang.api.app import create_app

    other = redis_url.replace("namespace=", "namespace=s")
    rt = open_runtime(tmp_path / "r", pg_url, state=redis_url, stream=other)
    try:
        c = consumer(rt)
        c.run_once()
        accept(rt, DEMO, {"event_id": "e1", "scene": "login", "occurred_at": "2026-11-25T10:00:00+08:00",
                          "customer_id": "c1", "device_id": "d1"}).wait()
        client_url, ns = split_url(other)
        r = redis.Redis.from_url(client_url)
        assert r.xlen(f"{ns}:decided") == 1
        assert not r.exists(f"{split_url(redis_url)[1]}:decided")
        drain(c, r, f"{ns}:decided".encode())
        assert cube_totals(rt)["decisions"] == 1
        ready = TestClient(create_app(platform=rt)).get("/readyz").json()
        assert ready["checks"] == {"database": "ok", "state": "ok", "stream": "ok"}
        r.delete(*r.keys(f"{ns}:*"))
    finally:
        rt.close()
    rt = open_runtime(tmp_path / "r2", pg_url, state=redis_url, stream="redis://127.0.0.1:1/0")  # nothing listens
    try:
        res = TestClient(create_app(platform=rt)).get("/readyz")
        assert res.status_code == 503
        assert res.json()["checks"]["stream"].startswith("down: ")
    finally:
        rt.close()


def test_the_cli_refuses_a_stream_without_state_or_a_bad_url(tmp_path):
    from click.testing import CliRunner

    from tianwang.cli import main

    res = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--stream", "redis://127.0.0.1:6379/0"])
    assert res.exit_code != 0 and "--stream is for server mode" in res.output
    res = CliRunner().invoke(main, ["worker", "network", "--data-dir", str(tmp_path), "--state", "redis://127.0.0.1:6379/0",
                                    "--stream", "http://example.org"], env={"TIANWANG_PII_KEY": "k"})
    assert res.exit_code != 0 and "expected redis://" in res.output


def test_a_worker_process_takes_over_what_a_dead_one_read(tmp_path, pg_url, redis_url, sim_log):
    """Real processes: a replica, and a worker started after another consumer read entries and
    vanished (what Redis sees of a worker killed before it acknowledged): the worker claims them
    after TIANWANG_STREAM_CLAIM_S, and the cube every replica reads counts each decision once."""
    import orjson

    from tests.monitor.expected import EVERYTHING, totals
    from tests.server.cluster import Replica

    claim = {"TIANWANG_STREAM_CLAIM_S": "1"}
    first = Replica(tmp_path / "w0", pg_url, redis_url, command=("worker", "network"), env=claim)
    replica = Replica(tmp_path / "r", pg_url, redis_url)
    client_url, ns = split_url(redis_url)
    r = redis.Redis.from_url(client_url)
    key = f"{ns}:decided".encode()
    try:
        replica.wait_ready()
        deadline = time.monotonic() + 60  # the first worker marks the empty cube and makes the group
        while not (r.exists(f"{ns}:cube:epoch") and r.exists(key) and r.xinfo_groups(key)):
            assert time.monotonic() < deadline, first.output()
            time.sleep(0.1)
        first.stop()
        for e in sim_log[:400]:
            assert replica.client.post("/v1/events", content=orjson.dumps(e)).status_code == 201
        taken = r.xreadgroup(GROUP, "killed-worker", {key: b">"}, count=150)[0][1]
        assert len(taken) == 150
        worker = Replica(tmp_path / "w1", pg_url, redis_url, command=("worker", "network"), env=claim)
        try:
            want = from_records(pg_url, tmp_path)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = totals(replica.client.get("/v1/monitor/cube", params=EVERYTHING).json())
                if got == want:
                    break
                time.sleep(0.3)
            assert got == want, worker.output()
            assert want["decisions"] == 400
            assert r.xpending(key, GROUP)["pending"] == 0
            behind = replica.client.get("/v1/monitor/cube", params=EVERYTHING).json()["behind"]
            assert behind == {"entries": 0, "unacknowledged": 0}
            assert "claimed 150 entries" in worker.output()
        finally:
            worker.stop()
    finally:
        first.stop()
        replica.stop()


def test_the_redis_cube_reads_the_minutes_it_holds_and_forgets_them_after_the_retention(redis_url):
    from tianwang.monitor.cube import fact
    from tianwang.monitor.redis_cube import RedisCube

    cube = RedisCube(redis_url, retention_s=1)
    cube.r.set(cube.marker, b"1")
    row = {"tenant": "t", "scene": "apply", "outcome": "pass", "reasons": [], "fallback": None, "latency_us": 100}
    minutes = (29_400_000, 29_400_007, 29_500_000)
    assert cube.add([fact({**row, "event_id": f"e{m}", "ts": m * MINUTE_MS}) for m in minutes]) == 3
    # a period of 70 days asks for 100,800 minutes; only the three held are read
    assert sorted(cube.cells("t", 29_400_000, 29_500_799)) == list(minutes)
    assert cube.cells("t", 29_400_001, 29_400_006) == {}
    assert cube.cells("other", 29_400_000, 29_500_799) == {}
    time.sleep(1.2)
    assert cube.cells("t", 29_400_000, 29_500_799) == {}
    assert cube.add([fact({**row, "event_id": "late", "ts": 29_400_003 * MINUTE_MS})]) == 1
    assert cube.r.zcard(cube._tenant_key("t", b"minutes")) == 1  # the expired minutes left the index
