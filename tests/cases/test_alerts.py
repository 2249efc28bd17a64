"""Alerts group into the open case of their subject: the customer, or its ring.

`alerts_for` and `ring_alert` only build effects (the walk runs them in the event's
transaction); here they are run in a transaction of their own, as the writer would.
"""

from __future__ import annotations

from tests.cases.helpers import held_ring, review, run
from tianwang.cases import service
from tianwang.cases.alerts import alerts_for, ring_alert
from tianwang.store import cases as repo


def cases_of(rt, tenant: str = "demo") -> list[dict]:
    with rt.db.connect() as conn:
        return repo.list_cases(conn, tenant=tenant, limit=1000)


def alerts_of(rt, case_id: int) -> list[dict]:
    with rt.db.connect() as conn:
        return repo.alerts_of(conn, tenant="demo", case_id=case_id)


def test_two_reviews_of_one_customer_make_one_case_with_two_alerts(runtime):
    review(runtime, "e1", "cust-1", ts=1_000, score=30, code="AP_FIRST")
    review(runtime, "e2", "cust-1", ts=2_000, score=70, code="AP_SECOND")
    review(runtime, "e3", "cust-2", ts=1_500, score=10)
    cases = cases_of(runtime)
    assert [(c["subject_kind"], c["subject_id"], c["alerts"]) for c in cases] == [
        ("customer", "cust-1", 2), ("customer", "cust-2", 1)]  # highest priority first
    first = cases[0]
    assert first["status"] == "open" and first["priority"] == 70
    assert (first["first_ts"], first["last_ts"]) == (1_000, 2_000)
    alerts = alerts_of(runtime, first["id"])
    assert [(a["kind"], a["source"], a["score"], a["customer_id"], a["ring_id"]) for a in alerts] == [
        ("decision", "e1", 30, "cust-1", None), ("decision", "e2", 70, "cust-1", None)]
    assert alerts[0]["reason"] == "AP_FIRST: text of AP_FIRST"


def test_only_a_review_raises_an_alert(runtime):
    for outcome in ("pass", "verify", "delay", "reject"):
        assert alerts_for("demo", {"event_id": f"x-{outcome}", "customer_id": "c", "ts": 1},
                          {"outcome": outcome, "score": 99, "reasons": []}, None) == []
    fallback = alerts_for("demo", {"event_id": "fb", "customer_id": "c", "ts": 1},
                          {"outcome": "review", "score": 0, "reasons": [], "fallback": "variables failed: X"}, None)
    run(runtime, fallback)
    (case,) = cases_of(runtime)
    assert alerts_of(runtime, case["id"])[0]["reason"] == "FALLBACK: variables failed: X"


def test_a_repeated_source_raises_no_second_alert(runtime):
    review(runtime, "e1", "cust-1", score=30)
    review(runtime, "e1", "cust-1", score=90)  # the same event's effect run again (a retried batch)
    (case,) = cases_of(runtime)
    assert case["alerts"] == 1 and case["priority"] == 30
    assert len(alerts_of(runtime, case["id"])) == 1


def test_the_members_of_a_ring_share_one_ring_case(runtime):
    review(runtime, "e1", "m1", ts=1_000, score=40, ring_id="R000007")
    review(runtime, "e2", "m2", ts=3_000, score=20, ring_id="R000007")
    review(runtime, "e3", "m2-alone", ts=2_000, score=20)
    ring_case, alone = cases_of(runtime)
    assert (ring_case["subject_kind"], ring_case["subject_id"], ring_case["alerts"]) == ("ring", "R000007", 2)
    assert ring_case["priority"] == 40 + 50  # a ring comes before a lone customer of the same score
    assert [a["customer_id"] for a in alerts_of(runtime, ring_case["id"])] == ["m1", "m2"]
    assert alone["subject_kind"] == "customer"


def test_a_flagged_ring_joins_the_rings_case_once_per_trigger(runtime):
    review(runtime, "e1", "m1", score=40, ring_id="R000003")
    members = ["m1", "m2", "m3", "m4"]
    for _ in range(2):
        run(runtime, ring_alert("demo", "R000003", "RING_MOSTLY_REJECTED", "half rejected", members, 5_000))
    run(runtime, ring_alert("demo", "R000003", "RING_CONFIRMED_FRAUD", "confirmed", members, 6_000))
    (case,) = cases_of(runtime)
    assert case["alerts"] == 3 and case["last_ts"] == 6_000 and case["priority"] == 100 + 50 + 4
    alerts = alerts_of(runtime, case["id"])
    assert [(a["kind"], a["source"]) for a in alerts] == [
        ("decision", "e1"), ("ring", "R000003:RING_MOSTLY_REJECTED"), ("ring", "R000003:RING_CONFIRMED_FRAUD")]
    assert alerts[1]["reason"] == "RING_MOSTLY_REJECTED: half rejected"


def test_after_a_case_is_closed_the_next_alert_opens_a_new_one(runtime):
    review(runtime, "e1", "cust-1")
    (first,) = cases_of(runtime)
    service.set_status(db=runtime.db, tenant="demo", case_id=first["id"], status="investigating", actor="inv.zhang")
    review(runtime, "e2", "cust-1")  # an investigating case is still open to alerts
    service.set_status(db=runtime.db, tenant="demo", case_id=first["id"], status="closed", actor="inv.zhang",
                       reason="duplicate")
    review(runtime, "e3", "cust-1")
    by_id = {c["id"]: c for c in cases_of(runtime)}
    assert len(by_id) == 2
    second = next(c for c in by_id.values() if c["id"] != first["id"])
    assert by_id[first["id"]]["alerts"] == 2 and by_id[first["id"]]["status"] == "closed"
    assert second["status"] == "open" and second["alerts"] == 1
    assert [a["source"] for a in alerts_of(runtime, second["id"])] == ["e3"]


def test_a_case_closed_between_lookup_and_count_still_gets_its_alert(runtime, monkeypatch):
    """The effect re-checks the status when it counts: a case closed meanwhile is not joined."""
    review(runtime, "e1", "cust-1")
    (first,) = cases_of(runtime)
    effects = alerts_for("demo", {"event_id": "e2", "customer_id": "cust-1", "ts": 2_000},
                         {"outcome": "review", "score": 10, "reasons": [{"code": "X", "text": "y"}]}, None)
    with runtime.db.begin() as conn:
        stale = repo.open_case_of(conn, tenant="demo", subject_kind="customer", subject_id="cust-1")
        repo.update_case(conn, tenant="demo", case_id=first["id"], status="closed")
        monkeypatch.setattr(repo, "open_case_of", lambda conn, **kw: stale)  # read just before the close
        for effect in effects:
            effect(conn)
    cases = cases_of(runtime)
    assert len(cases) == 2 and {c["alerts"] for c in cases} == {1}


def test_alerts_of_a_tenant_stay_in_that_tenant(runtime, other_tenant):
    review(runtime, "e1", "cust-1")
    review(runtime, "e1", "cust-1", tenant=other_tenant)  # the same event id at another lender
    assert len(cases_of(runtime)) == 1 and len(cases_of(runtime, other_tenant)) == 1


def test_the_walk_made_ring_is_a_ring_subject(runtime, demo):
    ring_id = held_ring(runtime, demo)
    review(runtime, "x1", "c1", ring_id=runtime.live.network("demo").ring_of("c1"))
    review(runtime, "x2", "c3", ring_id=runtime.live.network("demo").ring_of("c3"))
    (case,) = cases_of(runtime)
    assert (case["subject_kind"], case["subject_id"], case["alerts"]) == ("ring", ring_id, 2)
