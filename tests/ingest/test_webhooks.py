"""Webhook delivery against a real HTTP receiver and a real database: signing, retries, order, the thread."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select

from tests.serving import Receiver, free_port
from tianwang.metrics import Metrics
from tianwang.delivery.webhooks import WebhookDispatcher, sign, url_problem, verify_signature
from tianwang.store import outbox
from tianwang.store.db import make_engine, migrate
from tianwang.store.schema import outbox as outbox_table
from tianwang.store.schema import utcnow
from tianwang.store.tenants import create_tenant, set_webhook

SECRET = "s3cret-for-tests-only"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(None, tmp_path)
    migrate(eng)
    yield eng
    eng.dispose()


def tenant(engine, id: str, url: str | None = None, secret: str | None = SECRET) -> None:
    with engine.begin() as conn:
        create_tenant(conn, id=id, name=id, api_key_hash=f"hash-{id}")
        if url:
            set_webhook(conn, id=id, url=url, secret=secret)


def add(engine, tenant_id: str, key: str, topic: str = "decision.revised", **payload) -> int:
    with engine.begin() as conn:
        outbox.add(conn, tenant=tenant_id, topic=topic, key=key, payload=payload or {"key": key})
        return max(r["id"] for r in outbox.notifications(conn, tenant=tenant_id))


def row(engine, id: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(outbox_table).where(outbox_table.c.id == id)).mappings().one())


@pytest.fixture
def dispatchers():
    made = []

    def make(engine, **kw) -> WebhookDispatcher:
        d = WebhookDispatcher(engine, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


NOTHING = {"delivered": 0, "failed": 0, "dead": 0}


def test_a_delivery_carries_the_exact_body_and_a_valid_signature(engine, receiver, dispatchers):
    tenant(engine, "lender", receiver.url)
    id = add(engine, "lender", "decision.revised:e-1", event_id="e-1", outcome="reject", amount="12.50")
    metrics = Metrics()
    d = dispatchers(engine, metrics=metrics)
    assert d.run_once() == {"delivered": 1, "failed": 0, "dead": 0}

    [req] = receiver.requests
    stored = row(engine, id)
    created = stored["created_at"].isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert orjson.loads(req["body"]) == {"id": id, "topic": "decision.revised", "tenant": "lender", "created_at": created,
                                         "data": {"event_id": "e-1", "outcome": "reject", "amount": "12.50"}}
    assert created.endswith("Z")
    h = req["headers"]
    assert req["path"] == "/hook"
    assert h["Content-Type"] == "application/json"
    assert h["X-Tianwang-Topic"] == "decision.revised"
    assert h["X-Tianwang-Delivery"] == str(id)
    assert verify_signature(SECRET, h["X-Tianwang-Signature"], req["body"])
    assert not verify_signature("another-secret", h["X-Tianwang-Signature"], req["body"])
    assert stored["status"] == "delivered" and stored["attempts"] == 1 and stored["delivered_at"] is not None
    assert metrics.registry.get_sample_value("tianwang_webhook_deliveries_total", {"result": "delivered"}) == 1
    assert d.run_once() == NOTHING and len(receiver.requests) == 1, "a delivered row is not sent again"


def test_errors_are_retried_with_back_off_until_delivered(engine, receiver, dispatchers):
    receiver.statuses = [500, 503]
    tenant(engine, "lender", receiver.url)
    id = add(engine, "lender", "k1")
    d = dispatchers(engine, base_delay_s=10, max_delay_s=600)
    t0 = utcnow()

    assert d.run_once(t0) == {"delivered": 0, "failed": 1, "dead": 0}
    r = row(engine, id)
    assert r["status"] == "pending" and r["attempts"] == 1 and r["last_error"] == "HTTP 500"
    assert t0 + timedelta(seconds=8) <= r["next_at"] <= t0 + timedelta(seconds=12)  # 10 s ± 20%

    assert d.run_once(t0 + timedelta(seconds=7)) == NOTHING, "not retried before next_at"
    assert len(receiver.requests) == 1

    t1 = t0 + timedelta(seconds=13)
    assert d.run_once(t1) == {"delivered": 0, "failed": 1, "dead": 0}
    r = row(engine, id)
    assert r["attempts"] == 2 and r["last_error"] == "HTTP 503"
    assert t1 + timedelta(seconds=16) <= r["next_at"] <= t1 + timedelta(seconds=24)  # doubled: 20 s ± 20%
    assert d.run_once(t1 + timedelta(seconds=15)) == NOTHING

    assert d.run_once(t1 + timedelta(seconds=25)) == {"delivered": 1, "failed": 0, "dead": 0}
    r = row(engine, id)
    assert r["status"] == "delivered" and r["attempts"] == 3 and r["last_error"] is None
    assert receiver.ids() == [id, id, id]
    assert len({q["headers"]["X-Tianwang-Delivery"] for q in receiver.requests}) == 1


def test_a_receiver_that_is_down_fails_then_the_row_is_dead(engine, dispatchers):
    tenant(engine, "lender", f"http://127.0.0.1:{free_port()}/hook")
    id = add(engine, "lender", "k1")
    metrics = Metrics()
    d = dispatchers(engine, attempts=3, base_delay_s=1, metrics=metrics)
    t = utcnow()
    assert d.run_once(t) == {"delivered": 0, "failed": 1, "dead": 0}
    assert d.run_once(t + timedelta(hours=1)) == {"delivered": 0, "failed": 1, "dead": 0}
    assert d.run_once(t + timedelta(hours=2)) == {"delivered": 0, "failed": 0, "dead": 1}
    r = row(engine, id)
    assert r["status"] == "dead" and r["attempts"] == 3
    assert r["last_error"].startswith("ConnectError") and SECRET not in r["last_error"]
    assert d.run_once(t + timedelta(days=1)) == NOTHING, "a dead row is never tried again"
    sample = metrics.registry.get_sample_value
    assert sample("tianwang_webhook_deliveries_total", {"result": "failed"}) == 2
    assert sample("tianwang_webhook_deliveries_total", {"result": "dead"}) == 1


def test_a_slow_receiver_times_out_and_the_row_fails(engine, dispatchers):
    slow = Receiver(delay_s=1.0)
    try:
        tenant(engine, "lender", slow.url)
        id = add(engine, "lender", "k1")
        d = dispatchers(engine, timeout_s=0.2)
        started = time.monotonic()
        assert d.run_once() == {"delivered": 0, "failed": 1, "dead": 0}
        assert time.monotonic() - started < 0.9
        r = row(engine, id)
        assert r["status"] == "pending" and r["attempts"] == 1 and "Timeout" in r["last_error"]
    finally:
        slow.close()


def test_an_invalid_stored_url_fails_like_any_error(engine, dispatchers):
    tenant(engine, "lender", "ftp://example.invalid/hook")
    id = add(engine, "lender", "k1")
    assert dispatchers(engine).run_once() == {"delivered": 0, "failed": 1, "dead": 0}
    assert row(engine, id)["last_error"].startswith("UnsupportedProtocol")


def test_rows_of_a_tenant_without_a_webhook_stay_pending_untouched(engine, receiver, dispatchers):
    tenant(engine, "a")
    tenant(engine, "b", receiver.url)
    quiet = add(engine, "a", "k1")
    assert dispatchers(engine).run_once(utcnow() + timedelta(hours=1)) == NOTHING
    r = row(engine, quiet)
    assert r["status"] == "pending" and r["attempts"] == 0 and r["last_error"] is None
    assert receiver.requests == []


def test_a_failing_tenant_does_not_hold_up_another(engine, receiver, dispatchers):
    tenant(engine, "a", f"http://127.0.0.1:{free_port()}/down")
    tenant(engine, "b", receiver.url)
    a1, b1, a2, b2 = add(engine, "a", "1"), add(engine, "b", "1"), add(engine, "a", "2"), add(engine, "b", "2")
    assert dispatchers(engine).run_once() == {"delivered": 2, "failed": 1, "dead": 0}
    assert receiver.ids() == [b1, b2]
    assert row(engine, a1)["attempts"] == 1
    assert row(engine, a2)["attempts"] == 0, "after a failure the tenant's later rows wait their turn"


def test_each_tenants_rows_are_delivered_in_order(engine, receiver, dispatchers):
    receiver.statuses = [500]
    tenant(engine, "lender", receiver.url)
    ids = [add(engine, "lender", f"k{i}") for i in range(4)]
    d = dispatchers(engine, base_delay_s=5)
    t = utcnow()
    assert d.run_once(t) == {"delivered": 0, "failed": 1, "dead": 0}
    assert d.run_once(t + timedelta(seconds=1)) == NOTHING, "later rows wait while the first awaits its retry"
    assert d.run_once(t + timedelta(seconds=10)) == {"delivered": 4, "failed": 0, "dead": 0}
    assert receiver.ids() == [ids[0], *ids]


def test_due_filters_by_tenant_and_holds_rows_behind_a_waiting_one(db_url, tmp_path):
    """`outbox.due` on SQLite and PostgreSQL (the dispatcher's query)."""
    eng = make_engine(db_url, tmp_path)
    migrate(eng)
    try:
        ids = {k: add(eng, tnt, k) for tnt, k in [("a", "a1"), ("b", "b1"), ("a", "a2")]}
        t = utcnow()
        with eng.begin() as conn:
            assert [r["id"] for r in outbox.due(conn, now=t)] == sorted(ids.values())
            assert [r["id"] for r in outbox.due(conn, now=t, tenants=["b"])] == [ids["b1"]]
            assert outbox.due(conn, now=t, tenants=[]) == []
            outbox.mark_failed(conn, id=ids["a1"], attempts=1, next_at=t + timedelta(minutes=1), error="x", dead=False)
            assert [r["id"] for r in outbox.due(conn, now=t)] == [ids["b1"]]
            outbox.mark_failed(conn, id=ids["a1"], attempts=2, next_at=t, error="x", dead=True)
            assert [r["id"] for r in outbox.due(conn, now=t)] == [ids["b1"], ids["a2"]]
    finally:
        eng.dispose()


def test_verify_signature_refuses_what_it_should():
    body = b'{"id":1}'
    now = time.time()
    good = sign(SECRET, body, t=int(now))
    assert verify_signature(SECRET, good, body, now=now)
    assert not verify_signature("wrong-secret", good, body, now=now)
    assert not verify_signature(SECRET, good, b'{"id":2}', now=now)
    old = sign(SECRET, body, t=int(now) - 301)
    assert not verify_signature(SECRET, old, body, now=now)
    assert verify_signature(SECRET, old, body, now=now, tolerance_s=600)
    digest = good.split("v1=")[1]
    for bad in ["", "garbage", f"v1={digest}", f"t={int(now)}", f"t=abc,v1={digest}", f"t={int(now)},v1=",
                f"t={int(now)},t={int(now)},v1={digest}", f"t={int(now)},v1={digest[:-1]}"]:
        assert not verify_signature(SECRET, bad, body, now=now), bad
    rotated = f"t={int(now)},v1={'0' * 64},v1={digest}"
    assert verify_signature(SECRET, rotated, body, now=now), "any v1 may match (secret rotation)"


def test_url_problem():
    assert url_problem("https://lender.example/hooks/tianwang?x=1") is None
    assert url_problem("http://127.0.0.1:8080/h") is None
    for bad in ["ftp://x", "not a url", "http://", "https://" + "a" * 3000, "http://a.example/\nx", "http://a:99999/"]:
        assert url_problem(bad), bad


def test_the_thread_delivers_on_wake_and_survives_a_broken_database(engine, receiver, dispatchers, tmp_path, caplog):
    tenant(engine, "lender", receiver.url)
    d = dispatchers(engine, poll_s=60)
    d.start()
    assert any(t.name == "tianwang-webhooks" and t.daemon for t in threading.enumerate())
    time.sleep(0.2)  # let the first (empty) round pass, so only wake() can deliver within the deadline
    id = add(engine, "lender", "k1")
    d.wake()
    deadline = time.monotonic() + 5
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.ids() == [id]
    d.stop()
    assert not any(t.name == "tianwang-webhooks" for t in threading.enumerate())

    broken_dir = tmp_path / "not-a-db"
    broken_dir.mkdir()
    broken = make_engine(f"sqlite:///{broken_dir}", tmp_path)  # a folder: every query fails
    d = dispatchers(broken, poll_s=0.02)
    with caplog.at_level(logging.ERROR, logger="tianwang"):
        d.start()
        deadline = time.monotonic() + 5
        while sum("round failed" in r.message for r in caplog.records) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sum("round failed" in r.message for r in caplog.records) >= 3
        assert d._thread is not None and d._thread.is_alive()
    d.stop()
