"""GroupCommitWriter: FIFO seqs, exactly-once under concurrency, isolated failures, recovery."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, event, func, select

from tianwang.errors import Conflict, StoreUnavailable
from tianwang.store.db import make_engine, migrate
from tianwang.store.events import iter_events
from tianwang.store.schema import decisions, events
from tianwang.store.writer import DuplicateEvent, GroupCommitWriter

from .helpers import decision_row, event_row


def _count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_seq_order_is_submission_order(engine):
    with GroupCommitWriter(engine, max_batch=64) as writer:
        futures = [writer.submit(event_row(i), decision_row(i)) for i in range(1000)]
        assert writer.flush(timeout=60)
        assert all(f.done() for f in futures)
    seqs = [f.result() for f in futures]
    assert seqs == sorted(seqs) and len(set(seqs)) == 1000
    stored = list(iter_events(engine))
    assert [e["event_id"] for e in stored] == [f"ev-{i}" for i in range(1000)]
    assert [e["seq"] for e in stored] == seqs
    with engine.connect() as conn:
        order = conn.execute(select(decisions.c.event_id).order_by(decisions.c.seq)).scalars().all()
    assert order == [f"ev-{i}" for i in range(1000)]


def test_concurrent_submits_land_exactly_once(engine):
    threads, per_thread = 8, 250
    results: dict[int, list] = {}

    def producer(t: int) -> None:
        futures = [writer.submit(event_row(t * 10_000 + i), decision_row(i)) for i in range(per_thread)]
        results[t] = [f.result(timeout=60) for f in futures]

    with GroupCommitWriter(engine) as writer:
        workers = [threading.Thread(target=producer, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    every = [s for seqs in results.values() for s in seqs]
    assert len(every) == len(set(every)) == threads * per_thread
    for seqs in results.values():  # each producer's events keep its own order
        assert seqs == sorted(seqs)
    assert _count(engine, events) == _count(engine, decisions) == threads * per_thread


def test_one_batch_with_duplicates_fails_only_them(engine):
    with GroupCommitWriter(engine) as writer:
        assert writer.submit(event_row(1), decision_row(1)).result(timeout=30)
        with writer._cond:  # hold the writer so that all of these go in one batch
            futures = [
                writer.submit(event_row(2), decision_row(2)),
                writer.submit(event_row(1), decision_row(1)),  # stored before
                writer.submit(event_row(3), decision_row(3)),
                writer.submit(event_row(2), decision_row(2)),  # repeated within the batch
                writer.submit(event_row(4), decision_row(4)),
            ]
        writer.flush(timeout=30)
    for i in (1, 3):
        with pytest.raises(DuplicateEvent) as info:
            futures[i].result()
        assert isinstance(info.value, Conflict) and info.value.tenant == "acme"
    seqs = [futures[i].result() for i in (0, 2, 4)]
    assert seqs == sorted(seqs)
    assert [e["event_id"] for e in iter_events(engine)] == ["ev-1", "ev-2", "ev-3", "ev-4"]
    assert _count(engine, decisions) == 4


def test_same_event_id_in_another_tenant_is_not_a_duplicate(engine):
    with GroupCommitWriter(engine) as writer:
        a = writer.submit(event_row(1), decision_row(1))
        b = writer.submit(event_row(1, tenant="beta"), decision_row(1))
        assert a.result(timeout=30) < b.result(timeout=30)


def test_a_refused_row_fails_only_itself(engine):
    bad_null = event_row(2) | {"body_hash": None}  # NOT NULL violation
    bad_json = event_row(3, note="\ud800")  # a lone surrogate cannot be encoded
    with GroupCommitWriter(engine) as writer:
        with writer._cond:
            futures = [writer.submit(event_row(1), decision_row(1)),
                       writer.submit(bad_null, decision_row(2)),
                       writer.submit(bad_json, decision_row(3)),
                       writer.submit(event_row(4), decision_row(4))]
        writer.flush(timeout=30)
    for bad in futures[1:3]:
        with pytest.raises(StoreUnavailable, match="refused"):
            bad.result()
    assert futures[0].result() < futures[3].result()
    assert [e["event_id"] for e in iter_events(engine)] == ["ev-1", "ev-4"]
    assert _count(engine, decisions) == 2


def test_unreachable_database_fails_futures_and_writer_survives(tmp_path):
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2", tmp_path)
    with GroupCommitWriter(engine) as writer:
        for attempt in range(2):
            futures = [writer.submit(event_row(i), decision_row(i)) for i in range(5)]
            for f in futures:
                with pytest.raises(StoreUnavailable, match="unavailable"):
                    f.result(timeout=30)
        assert writer._thread.is_alive()
    engine.dispose()


def _short_lock_wait(engine: Engine) -> None:
    """Make the writer give up on a lock after 200 ms instead of waiting."""

    @event.listens_for(engine, "connect")
    def _set(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA busy_timeout=200")
        else:
            cur.execute("SET lock_timeout = 200")
            dbapi_conn.commit()
        cur.close()


def test_locked_database_fails_the_batch_then_the_writer_recovers(db_url, tmp_path):
    engine = make_engine(db_url, tmp_path)
    migrate(engine)
    engine.dispose()
    _short_lock_wait(engine)
    blocker = make_engine(db_url, tmp_path)
    with GroupCommitWriter(engine) as writer:
        with blocker.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
            else:
                conn.exec_driver_sql("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            futures = [writer.submit(event_row(i), decision_row(i)) for i in range(3)]
            for f in futures:
                with pytest.raises(StoreUnavailable):
                    f.result(timeout=30)
            conn.rollback()
        again = [writer.submit(event_row(i), decision_row(i)) for i in range(3)]
        seqs = [f.result(timeout=30) for f in again]
    assert seqs == sorted(seqs)
    assert [e["event_id"] for e in iter_events(engine)] == ["ev-0", "ev-1", "ev-2"]
    engine.dispose()
    blocker.dispose()


def test_close_drains_the_queue_and_refuses_later_submits(engine):
    writer = GroupCommitWriter(engine, max_batch=10)
    futures = [writer.submit(event_row(i), decision_row(i)) for i in range(200)]
    writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert not writer._thread.is_alive()
    with pytest.raises(StoreUnavailable, match="closed"):
        writer.submit(event_row(999), decision_row(999)).result(timeout=1)
    assert _count(engine, events) == 200


def test_a_cancelled_submit_is_not_written(engine):
    with GroupCommitWriter(engine) as writer:
        with writer._cond:
            kept = writer.submit(event_row(1), decision_row(1))
            dropped = writer.submit(event_row(2), decision_row(2))
            assert dropped.cancel()
        assert writer.flush(timeout=30)
    assert kept.result() > 0
    assert [e["event_id"] for e in iter_events(engine)] == ["ev-1"]


def test_bad_rows_are_refused_at_submit(engine):
    with GroupCommitWriter(engine) as writer:
        with pytest.raises(ValueError, match="unknown event column"):
            writer.submit(event_row(1) | {"colour": "red"}, decision_row(1))
        with pytest.raises(ValueError, match="tenant"):
            writer.submit(event_row(1) | {"tenant": ""}, decision_row(1))
        with pytest.raises(ValueError, match="differ"):
            writer.submit(event_row(1), decision_row(1) | {"event_id": "ev-2"})


def test_a_listener_hears_each_batch_once_after_its_futures_resolved(engine):
    heard: list[list] = []

    def listener(done):
        assert all(f.done() for _, f in done), "told only once every Future of the batch is resolved"
        heard.append([(key, f.result()) for key, f in done])

    with GroupCommitWriter(engine) as writer:
        writer.add_listener(listener)
        with writer._cond:  # hold the writer so that all of these go in one batch
            futures = [writer.submit(event_row(i), decision_row(i)) for i in range(5)]
        assert writer.flush(timeout=30)
        assert heard == [[(("acme", f"ev-{i}"), f.result()) for i, f in enumerate(futures)]]
        writer.remove_listener(listener)
        writer.submit(event_row(9), decision_row(9)).result(timeout=30)
        assert writer.flush(timeout=30)
    assert len(heard) == 1


def test_a_failing_listener_does_not_stop_the_writer(engine):
    def broken(done):
        raise RuntimeError("listener bug")

    with GroupCommitWriter(engine) as writer:
        writer.add_listener(broken)
        seqs = [writer.submit(event_row(i), decision_row(i)).result(timeout=30) for i in range(3)]
    assert seqs == sorted(seqs) and _count(engine, events) == 3


def test_a_submit_refused_after_close_is_told_to_listeners(engine):
    heard = []
    writer = GroupCommitWriter(engine)
    writer.add_listener(lambda done: heard.extend(done))
    writer.close()
    future = writer.submit(event_row(1), decision_row(1))
    assert heard == [(("acme", "ev-1"), future)]
    with pytest.raises(StoreUnavailable, match="closed"):
        future.result(timeout=1)
