"""What an investigator does with a case: assign, move on, note, look, dispose — each audited."""

from __future__ import annotations

import pytest

from tests.cases.helpers import held_ring, honest_delay, review, walk
from tests.factories import drawdown_event
from tianwang.cases import service
from tianwang.errors import Conflict, NotFound
from tianwang.store import audit as audit_repo
from tianwang.store import cases as repo
from tianwang.store import holds as holds_repo
from tianwang.store import lists as list_repo


def only_case(rt, **filters) -> dict:
    with rt.db.connect() as conn:
        (case,) = repo.list_cases(conn, tenant="demo", **filters)
    return case


def audit(rt) -> list[tuple[str, str, str]]:
    with rt.db.connect() as conn:
        return [(r["action"], r["target"], r["actor"]) for r in audit_repo.list_audit(conn, tenant="demo")]


def hold(rt, event_id: str) -> dict:
    with rt.db.connect() as conn:
        return holds_repo.get(conn, tenant="demo", event_id=event_id)


def labels(rt, event_ids) -> dict[str, tuple[str, str]]:
    with rt.db.connect() as conn:
        rows = repo.labels_of(conn, tenant="demo", event_ids=event_ids)
    return {e: (r["label"], r["source"]) for e, r in rows.items()}


def black_customers(rt) -> dict[str, dict]:
    with rt.db.connect() as conn:
        return {e["value"]: e for e in list_repo.all_entries(conn, tenant="demo")
                if e["list_type"] == "black" and e["entity"] == "customer"}


# ---------------------------------------------------------------------------- assign, status, notes


def test_assign_status_and_notes_are_audited_and_make_the_timeline(runtime, investigators):
    review(runtime, "e1", "cust-1")
    case_id = only_case(runtime)["id"]
    assert service.assign(db=runtime.db, tenant="demo", case_id=case_id, owner="inv.zhang",
                          actor="boss")["owner"] == "inv.zhang"
    assert only_case(runtime, owner="inv.zhang")["id"] == case_id
    moved = service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="investigating", actor="inv.zhang")
    assert moved["status"] == "investigating" and moved["closed_at"] is None
    note = service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="called the customer\n\tno answer",
                            actor="inv.zhang")
    assert (note["kind"], note["author"], note["text"]) == ("note", "inv.zhang", "called the customer\n\tno answer")
    service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="screenshot", kind="evidence",
                     actor="inv.zhang", data={"file": "s.png", "sha256": "ab"})
    closed = service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="closed", actor="inv.zhang",
                                reason="test traffic")
    assert closed["status"] == "closed" and closed["closed_at"] is not None and closed["disposition"] is None

    detail = service.case_detail(live=runtime.live, tenant="demo", case_id=case_id)
    assert [(n["kind"], n["author"]) for n in detail["notes"]] == [
        ("status", "boss"), ("status", "inv.zhang"), ("note", "inv.zhang"), ("evidence", "inv.zhang"),
        ("status", "inv.zhang")]
    assert detail["notes"][3]["data"] == {"file": "s.png", "sha256": "ab"}
    assert detail["notes"][-1]["text"] == "investigating → closed: test traffic"
    target = f"case:{case_id}"
    assert [a for a in audit(runtime) if a[0].startswith("case.")][::-1] == [
        ("case.assign", target, "boss"), ("case.status", target, "inv.zhang"), ("case.note", target, "inv.zhang"),
        ("case.note", target, "inv.zhang"), ("case.status", target, "inv.zhang")]


def test_transitions_that_are_not_allowed_are_refused(runtime):
    review(runtime, "e1", "cust-1")
    case_id = only_case(runtime)["id"]
    with pytest.raises(Conflict, match="already open"):
        service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="open", actor="inv.zhang")
    with pytest.raises(ValueError, match="reason"):  # closed only by a disposition or with a reason
        service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="closed", actor="inv.zhang")
    service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="investigating", actor="inv.zhang")
    with pytest.raises(Conflict, match="from investigating to open"):  # no way back
        service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="open", actor="inv.zhang")
    service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="closed", actor="inv.zhang",
                       reason="duplicate of another")
    for status in ("investigating", "closed"):
        with pytest.raises(Conflict):
            service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status=status, actor="inv.zhang",
                               reason="x")
    with pytest.raises(Conflict, match="only an admin"):
        service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="open", actor="inv.zhang")
    with pytest.raises(Conflict, match="closed"):
        service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                        case_id=case_id, disposition="not_fraud", fraud_type=None, note="x", actor="inv.zhang")
    with pytest.raises(Conflict, match="closed"):
        service.assign(db=runtime.db, tenant="demo", case_id=case_id, owner=None, actor="inv.zhang")
    assert only_case(runtime)["status"] == "closed"
    assert [a for a in audit(runtime) if a[0] == "case.status"] == [("case.status", f"case:{case_id}", "inv.zhang")] * 2

    reopened = service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="open", actor="boss",
                                  admin=True)
    assert reopened["status"] == "open" and reopened["closed_at"] is None
    review(runtime, "e2", "cust-1")  # joins the reopened case
    assert only_case(runtime)["alerts"] == 2


def test_a_closed_case_is_not_reopened_while_its_subject_has_another_open(runtime):
    review(runtime, "e1", "cust-1")
    first = only_case(runtime)["id"]
    service.set_status(db=runtime.db, tenant="demo", case_id=first, status="closed", actor="inv.zhang",
                       reason="too early")
    review(runtime, "e2", "cust-1")
    with pytest.raises(Conflict, match="is open"):
        service.set_status(db=runtime.db, tenant="demo", case_id=first, status="open", actor="boss", admin=True)


def test_bad_input_is_refused_with_a_clear_message(runtime, investigators):
    review(runtime, "e1", "cust-1")
    case_id = only_case(runtime)["id"]
    bad_notes = [("", "empty"), ("   \n", "empty"), ("x" * 4001, "at most 4000"), ("bell\x07", r"U\+0007"),
                 ("nul\x00", r"U\+0000"), (42, "text")]
    for text, message in bad_notes:
        with pytest.raises(ValueError, match=message):
            service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text=text, actor="inv.zhang")
    assert service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="x" * 4000,
                            actor="inv.zhang")["text"] == "x" * 4000
    assert service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="a\r\nb",
                            actor="inv.zhang")["text"] == "a\nb"
    with pytest.raises(ValueError, match="kind"):
        service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="x", kind="status", actor="inv.zhang")
    with pytest.raises(ValueError, match="data"):
        service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="x", actor="inv.zhang",
                         data=["not", "an object"])
    with pytest.raises(ValueError, match="actor"):
        service.add_note(db=runtime.db, tenant="demo", case_id=case_id, text="x", actor="")
    with pytest.raises(ValueError, match="status"):
        service.set_status(db=runtime.db, tenant="demo", case_id=case_id, status="solved", actor="inv.zhang")
    for owner in ("nobody", "ana"):  # unknown; an analyst does not work cases
        with pytest.raises(ValueError, match="owner"):
            service.assign(db=runtime.db, tenant="demo", case_id=case_id, owner=owner, actor="boss")
    kw = {"actor": "inv.zhang", "note": "seen"}
    with pytest.raises(ValueError, match="disposition"):
        service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                        case_id=case_id, disposition="maybe", fraud_type=None, **kw)
    with pytest.raises(ValueError, match="fraud_type"):
        service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                        case_id=case_id, disposition="fraud", fraud_type="aliens", **kw)
    with pytest.raises(ValueError, match="fraud_type"):
        service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                        case_id=case_id, disposition="not_fraud", fraud_type="batch_attack", **kw)
    with pytest.raises(ValueError, match="note"):
        service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                        case_id=case_id, disposition="not_fraud", fraud_type=None, actor="inv.zhang", note="")
    with pytest.raises(ValueError, match="case_id"):
        service.case_detail(live=runtime.live, tenant="demo", case_id="1")
    assert only_case(runtime)["status"] == "open" and only_case(runtime)["owner"] is None


def test_an_unknown_case_or_another_tenants_is_not_found(runtime, other_tenant):
    review(runtime, "e1", "cust-1")
    case_id = only_case(runtime)["id"]
    for tenant, cid in ((other_tenant, case_id), ("demo", case_id + 1000)):
        with pytest.raises(NotFound):
            service.case_detail(live=runtime.live, tenant=tenant, case_id=cid)
        with pytest.raises(NotFound):
            service.assign(db=runtime.db, tenant=tenant, case_id=cid, owner=None, actor="x")
        with pytest.raises(NotFound):
            service.set_status(db=runtime.db, tenant=tenant, case_id=cid, status="investigating", actor="x")
        with pytest.raises(NotFound):
            service.add_note(db=runtime.db, tenant=tenant, case_id=cid, text="x", actor="x")
        with pytest.raises(NotFound):
            service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant=tenant,
                            case_id=cid, disposition="not_fraud", fraud_type=None, note="x", actor="x")
    assert service.list_cases(db=runtime.db, tenant=other_tenant) == []
    assert only_case(runtime)["status"] == "open"
    assert not any(a[0].startswith("case.") for a in audit(runtime))


# ---------------------------------------------------------------------------- detail and dispose


def test_disposing_a_ring_case_fraud_rejects_members_held_events_blacklists_and_labels(runtime, demo):
    ring_id = held_ring(runtime, demo)
    honest_delay(runtime, demo)
    review(runtime, "d1", "c1", ring_id=ring_id)
    case_id = only_case(runtime)["id"]

    detail = service.case_detail(live=runtime.live, tenant="demo", case_id=case_id)
    assert detail["ring"] == {"ring_id": ring_id, "members": ["c1", "c2", "c3", "c4"]}
    assert detail["customers"] == ["c1", "c2", "c3", "c4"]
    assert sorted(h["event_id"] for h in detail["held"]) == ["d1", "d2"]
    assert [a["source"] for a in detail["alerts"]] == ["d1"]

    done = service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                           case_id=case_id, disposition="fraud", fraud_type="batch_attack",
                           note="one farm device", actor="inv.zhang")
    assert done["case"]["status"] == "closed" and done["case"]["disposition"] == "fraud"
    assert done["case"]["fraud_type"] == "batch_attack" and done["case"]["closed_at"] is not None
    assert done["blacklisted"] == ["c1", "c2", "c3", "c4"] and sorted(done["revised"]) == ["d1", "d2"]
    assert done["released"] == [] and done["labels"] == 6  # a1..a4, d1, d2

    for event_id in ("d1", "d2"):
        h = hold(runtime, event_id)
        assert h["status"] == "rejected" and h["final_outcome"] == "reject" and h["resolved_by"] == "person:inv.zhang"
    assert hold(runtime, "h-dd")["status"] == "held"  # not in the ring
    black = black_customers(runtime)
    assert sorted(black) == ["c1", "c2", "c3", "c4"] and {e["source"] for e in black.values()} == {f"case:{case_id}"}
    assert runtime.live.lists.blacklisted_customers("demo", 0) >= {"c1", "c2", "c3", "c4"}  # the running lists know
    assert labels(runtime, ["a1", "a2", "a3", "a4", "d1", "d2", "h-apply", "h-dd"]) == {
        e: ("batch_attack", f"case:{case_id}") for e in ("a1", "a2", "a3", "a4", "d1", "d2")}
    actions = audit(runtime)
    assert ("case.dispose", f"case:{case_id}", "inv.zhang") in actions
    assert ("ring.dispose", f"ring:{ring_id}", "person:inv.zhang") in actions
    assert ("lists.add", "api", "inv.zhang") in actions

    # The walk sees it at once: a member's next drawdown is rejected, not held.
    d3 = walk(runtime, demo, drawdown_event("d3", customer="c3", minute=100, device_id="farm-1"))
    assert d3["outcome"] == "reject", d3
    with pytest.raises(Conflict, match="already closed"):
        service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                        case_id=case_id, disposition="fraud", fraud_type="batch_attack", note="again",
                        actor="inv.zhang")


def test_disposing_a_customer_case_not_fraud_releases_its_held_events_and_labels_them_normal(runtime, demo):
    held_ring(runtime, demo)
    honest_delay(runtime, demo)
    review(runtime, "h-dd", "honest")
    case_id = only_case(runtime)["id"]
    assert [h["event_id"] for h in service.case_detail(live=runtime.live, tenant="demo",
                                                       case_id=case_id)["held"]] == ["h-dd"]
    assert service.case_detail(live=runtime.live, tenant="demo", case_id=case_id)["ring"] is None

    done = service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                           case_id=case_id, disposition="not_fraud", fraud_type=None,
                           note="the customer confirmed the payee", actor="inv.zhang")
    assert done["released"] == ["h-dd"] and done["revised"] == [] and done["blacklisted"] == []
    assert done["labels"] == 2 and done["case"]["disposition"] == "not_fraud"
    h = hold(runtime, "h-dd")
    assert h["status"] == "released" and h["final_outcome"] == "pass" and h["resolved_by"] == "person:inv.zhang"
    assert h["resolution"]["note"] == f"case {case_id}: the customer confirmed the payee"
    assert labels(runtime, ["h-apply", "h-dd", "d1"]) == {"h-apply": ("normal", f"case:{case_id}"),
                                                          "h-dd": ("normal", f"case:{case_id}")}
    assert black_customers(runtime) == {}
    assert hold(runtime, "d1")["status"] == "held"  # another subject's hold
    assert service.case_detail(live=runtime.live, tenant="demo", case_id=case_id)["held"] == []
    assert ("hold.release", "event:h-dd", "person:inv.zhang") in audit(runtime)


def test_disposing_a_customer_case_fraud_rejects_its_held_events(runtime, demo):
    honest_delay(runtime, demo)
    review(runtime, "h-dd", "honest")
    case_id = only_case(runtime)["id"]
    done = service.dispose(live=runtime.live, metrics=runtime.metrics, hasher=runtime.hasher, tenant="demo",
                           case_id=case_id, disposition="fraud", fraud_type="identity_theft",
                           note="the real owner called", actor="inv.zhang")
    assert done["revised"] == ["h-dd"] and done["blacklisted"] == ["honest"] and done["labels"] == 2
    assert hold(runtime, "h-dd")["status"] == "rejected"
    assert black_customers(runtime)["honest"]["source"] == f"case:{case_id}"
    assert labels(runtime, ["h-dd"]) == {"h-dd": ("identity_theft", f"case:{case_id}")}
