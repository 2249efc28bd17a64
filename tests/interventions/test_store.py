"""The interventions table: a task once per (tenant, event, kind), due tasks, conditional changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tianwang.store import interventions as repo
from tianwang.store.schema import utcnow


def test_a_task_is_added_once_and_changes_only_from_the_status_it_leaves(engine):
    now = utcnow()
    with engine.begin() as conn:
        first = repo.add(conn, tenant="t", event_id="e1", customer_id="c1", kind="manual_call", detail={"x": 1})
        assert first is not None
        assert repo.add(conn, tenant="t", event_id="e1", customer_id="c1", kind="manual_call") is None
        later = repo.add(conn, tenant="t", event_id="e2", customer_id="c1", kind="sms", next_at=now + timedelta(hours=1))
        other = repo.add(conn, tenant="u", event_id="e1", customer_id="c1", kind="manual_call")
        with pytest.raises(ValueError):
            repo.add(conn, tenant="t", event_id="e1", customer_id="c1", kind="freeze")
    with engine.begin() as conn:
        assert [r["id"] for r in repo.due(conn, now=now + timedelta(seconds=1))] == [first, other]
        assert [r["id"] for r in repo.due(conn, now=now + timedelta(seconds=1), tenants=["t"])] == [first]
        assert {r["id"] for r in repo.due(conn, now=now + timedelta(hours=2))} == {first, later, other}
        assert repo.get(conn, tenant="u", id=first) is None  # another tenant's task
        assert [r["id"] for r in repo.list_of(conn, tenant="t", customer_id="c1")] == [first, later]
        assert [r["id"] for r in repo.list_of(conn, tenant="t", event_id="e1")] == [first]

        assert repo.mark_sent(conn, id=first, attempts=1)
        assert not repo.mark_sent(conn, id=first, attempts=1)  # taken already
        assert repo.requeue(conn, id=first, next_at=now + timedelta(minutes=30))
        assert not repo.requeue(conn, id=first, next_at=now)  # not sent
        assert repo.mark_sent(conn, id=first, attempts=2)
        assert repo.mark_done(conn, id=first, outcome="denied", detail={"result": {"outcome": "denied"}})
        assert not repo.mark_done(conn, id=first, outcome="confirmed")  # ended already
        assert repo.mark_failed(conn, id=later)
        with pytest.raises(ValueError):
            repo.mark_done(conn, id=other, outcome="maybe")
        task = repo.get(conn, tenant="t", id=first)
        assert (task["status"], task["outcome"], task["attempts"]) == ("done", "denied", 2)
        assert task["detail"] == {"result": {"outcome": "denied"}}
        assert task["next_at"].tzinfo is not None
        assert repo.get(conn, tenant="t", id=later)["status"] == "failed"
        assert repo.due(conn, now=now + timedelta(hours=2)) == [repo.get(conn, tenant="u", id=other)]
