"""The case repositories: pages in priority order, filters, one alert per source, labels,
and queries that stay on their indexes with 10,000 cases stored."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tianwang.store import cases as repo
from tianwang.store.schema import cases as cases_table
from tianwang.store.schema import utcnow
from tianwang.store.schema import events as events_table


def make(conn, subject: str, priority: int, *, tenant: str = "t1", kind: str = "customer") -> int:
    return repo.create_case(conn, tenant=tenant, subject_kind=kind, subject_id=subject, first_ts=1, priority=priority)


def ids(rows) -> list[int]:
    return [r["id"] for r in rows]


def test_pages_follow_priority_then_id_both_ways(engine):
    with engine.begin() as conn:
        made = {make(conn, f"s{i}", p): p for i, p in enumerate([10, 50, 10, 30, 50, 10, 30, 0])}
        make(conn, "elsewhere", 99, tenant="t2")
        everything = ids(repo.list_cases(conn, tenant="t1", limit=100))
        assert everything == sorted(made, key=lambda i: (-made[i], i))
        pages, after = [], None
        while True:
            page = ids(repo.list_cases(conn, tenant="t1", after=after, limit=3))
            if not page:
                break
            pages.append(page)
            after = page[-1]
        assert [i for p in pages for i in p] == everything and [len(p) for p in pages] == [3, 3, 2]
        assert ids(repo.list_cases(conn, tenant="t1", before=pages[2][0], limit=3)) == pages[1]
        assert ids(repo.list_cases(conn, tenant="t1", before=pages[1][0], limit=3)) == pages[0]
        assert ids(repo.list_cases(conn, tenant="t1", before=pages[0][0], limit=3)) == []
        assert repo.list_cases(conn, tenant="t1", after=10_000) == []  # an unknown cursor
        with pytest.raises(ValueError):
            repo.list_cases(conn, tenant="t1", after=1, before=2)


def test_filters_and_the_open_case_of_a_subject(engine):
    with engine.begin() as conn:
        a = make(conn, "cust-1", 10)
        b = make(conn, "R000001", 20, kind="ring")
        repo.update_case(conn, tenant="t1", case_id=a, status="closed", disposition="fraud")
        c = make(conn, "cust-1", 5)
        assert repo.update_case(conn, tenant="t1", case_id=c, owner="inv.li", when_status=repo.OPEN_STATUSES)
        assert not repo.update_case(conn, tenant="t1", case_id=a, owner="x", when_status=repo.OPEN_STATUSES)
        assert ids(repo.list_cases(conn, tenant="t1", status="open")) == [b, c]
        assert ids(repo.list_cases(conn, tenant="t1", status="closed")) == [a]
        assert ids(repo.list_cases(conn, tenant="t1", owner="inv.li")) == [c]
        assert ids(repo.list_cases(conn, tenant="t1", subject_id="cust-1")) == [a, c]
        assert ids(repo.list_cases(conn, tenant="t1", subject_kind="ring")) == [b]
        assert repo.open_case_of(conn, tenant="t1", subject_kind="customer", subject_id="cust-1")["id"] == c
        assert repo.open_case_of(conn, tenant="t2", subject_kind="customer", subject_id="cust-1") is None
        assert repo.get_case(conn, tenant="t2", case_id=c) is None
        with pytest.raises(ValueError):
            repo.update_case(conn, tenant="t1", case_id=c, alerts=7)
        with pytest.raises(ValueError):
            repo.list_cases(conn, tenant="t1", status="resolved")


def test_one_alert_per_source_and_counting_only_on_an_open_case(engine):
    with engine.begin() as conn:
        case_id = make(conn, "cust-1", 10)
        row = {"tenant": "t1", "kind": "decision", "source": "e1", "customer_id": "cust-1", "ring_id": None,
               "case_id": case_id, "score": 40, "reason": "X: y", "ts": 5}
        assert repo.add_alert(conn, row) is not None
        assert repo.add_alert(conn, row) is None
        assert repo.add_alert(conn, {**row, "kind": "ring"}) is not None  # another kind, another alert
        assert repo.alert_exists(conn, tenant="t1", kind="decision", source="e1")
        assert not repo.alert_exists(conn, tenant="t2", kind="decision", source="e1")
        assert repo.count_alert(conn, tenant="t1", case_id=case_id, ts=9, priority=40)
        assert repo.count_alert(conn, tenant="t1", case_id=case_id, ts=3, priority=20)
        got = repo.get_case(conn, tenant="t1", case_id=case_id)
        assert (got["alerts"], got["last_ts"], got["priority"]) == (2, 9, 40)
        repo.update_case(conn, tenant="t1", case_id=case_id, status="closed")
        assert not repo.count_alert(conn, tenant="t1", case_id=case_id, ts=10, priority=99)
        assert [a["kind"] for a in repo.alerts_of(conn, tenant="t1", case_id=case_id)] == ["decision", "ring"]


def test_labels_keep_the_first_and_cover_every_event_of_the_customers(engine):
    with engine.begin() as conn:
        conn.execute(events_table.insert(), [
            {"tenant": t, "event_id": e, "scene": "apply", "customer_id": c, "ts": ts, "body_hash": "h",
             "payload": {}, "received_at": utcnow()}
            for t, e, c, ts in (("t1", "e1", "c1", 1), ("t1", "e2", "c1", 2), ("t1", "e3", "c2", 3),
                                ("t1", "e4", "c3", 4), ("t2", "e1", "c1", 1))])
        assert repo.event_ids_of(conn, tenant="t1", customer_ids=["c1", "c2"]) == ["e1", "e2", "e3"]
        assert repo.add_labels(conn, tenant="t1", event_ids=["e2", "e2"], label="normal", source="case:1") == 1
        assert repo.label_events_of(conn, tenant="t1", customer_ids=["c1", "c2"], label="batch_attack",
                                    source="case:2") == 2
        assert repo.label_events_of(conn, tenant="t1", customer_ids=[], label="x", source="case:3") == 0
        got = {e: (r["label"], r["source"]) for e, r in
               repo.labels_of(conn, tenant="t1", event_ids=["e1", "e2", "e3", "e4"]).items()}
        assert got == {"e1": ("batch_attack", "case:2"), "e2": ("normal", "case:1"), "e3": ("batch_attack", "case:2")}
        assert repo.labels_of(conn, tenant="t2", event_ids=["e1"]) == {}


def test_listing_stays_on_the_indexes_with_10000_cases(engine):
    """Timing-free: the plans of the queries behind a page name the index and scan no table."""
    now = utcnow()
    rows = [{"tenant": "t1", "subject_kind": "customer", "subject_id": f"c{i}",
             "status": ("open", "investigating", "closed")[i % 3], "owner": f"inv{i % 7}", "priority": i % 13 * 10,
             "alerts": 1, "first_ts": i, "last_ts": i, "created_at": now, "updated_at": now} for i in range(10_000)]
    with engine.begin() as conn:
        conn.execute(cases_table.insert(), rows)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE cases")
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            first = repo.list_cases(conn, tenant="t1", status="open", limit=50)
            second = repo.list_cases(conn, tenant="t1", status="open", after=first[-1]["id"], limit=50)
            repo.list_cases(conn, tenant="t1", status="open", before=second[0]["id"], limit=50)
            repo.list_cases(conn, tenant="t1", owner="inv3", status="investigating", limit=50)
            repo.open_case_of(conn, tenant="t1", subject_kind="customer", subject_id="c42")
            repo.alerts_of(conn, tenant="t1", case_id=first[0]["id"])
            repo.notes_of(conn, tenant="t1", case_id=first[0]["id"])
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) >= 9
    with engine.connect() as conn:
        for statement, params in seen:
            if conn.dialect.name == "sqlite":
                plan = " | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
                on_index = ("USING INDEX", "USING COVERING INDEX", "USING INTEGER PRIMARY KEY")
                assert any(s in plan for s in on_index), (statement, plan)
            else:
                plan = " | ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
                assert "Seq Scan" not in plan, (statement, plan)
            if "FROM cases" in statement and "ORDER BY" in statement:
                assert "ix_cases_" in plan, (statement, plan)
