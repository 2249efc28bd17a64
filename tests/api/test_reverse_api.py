"""Reverse notification (反向通知) and held decisions, through the HTTP API.

A ring that crosses one of the policy's reverse triggers, or that an investigator marks
fraud, re-decides its members' held events to reject; delays end by the tenant's clock; a
person answers a held event. Each change is in the holds, the notifications (what the
webhook delivers) and the audit log, and survives a restart.
"""

from __future__ import annotations

import pytest

from tests.factories import apply_event, drawdown_event
from tests.serving import DEMO_KEY, Client, Receiver, Server, open_runtime
from tianwang.store import audit as audit_repo
from tianwang.store import rings as rings_repo

CONTACTS = [{"phone": "13700001111", "relation": "friend"}, {"phone": "13700002222", "relation": "colleague"}]


def member_apply(i: int, minute: int) -> dict:
    return apply_event(f"a{i}", customer=f"c{i}", minute=minute, device_id="farm-1", contacts=CONTACTS)


def post(api, event: dict) -> dict:
    r = api.post("/v1/events", json=event)
    assert r.status_code == 201, r.text
    return r.json()


def held_ring(api) -> None:
    """Four applicants on one device with the same two contacts form a ring (the fourth is
    rejected as a farm); two members' drawdowns are then delayed for a call (DD_IN_RING)."""
    for i in range(1, 5):
        post(api, member_apply(i, 5 * i))
    for i in (1, 2):
        d = post(api, drawdown_event(f"d{i}", customer=f"c{i}", minute=30 + i, device_id="farm-1"))
        assert d["outcome"] == "delay" and "DD_IN_RING" in [r["code"] for r in d["reasons"]], d


def honest_delay(api) -> None:
    """A customer outside any ring, drawing most of the line to a stranger while on a call: held."""
    post(api, apply_event("h-apply", customer="honest", minute=0))
    d = post(api, drawdown_event("h-dd", customer="honest", minute=40, amount=1_800_000, on_call=True,
                                 name="张三", payee_name="王五"))
    assert d["outcome"] == "delay", d


def hold_of(api, event_id: str) -> dict:
    r = api.get(f"/v1/decisions/{event_id}")
    assert r.status_code == 200, r.text
    return r.json()["hold"]


def topics(api) -> list[tuple[str, str | None]]:
    items = api.get("/v1/notifications").json()["items"]
    return [(n["topic"], n["data"]["ring_id"] if n["topic"] == "ring.flagged" else n["data"]["event_id"]) for n in items]


def audit(runtime) -> list[tuple[str, str, str]]:
    with runtime.db.connect() as conn:
        return [(r["action"], r["target"], r["actor"]) for r in audit_repo.list_audit(conn, tenant="demo")]


def test_a_ring_crossing_its_trigger_rejects_its_members_held_drawdowns(api, runtime):
    held_ring(api)
    honest_delay(api)
    assert hold_of(api, "d1")["status"] == "held" and hold_of(api, "h-dd")["status"] == "held"

    post(api, member_apply(5, 85))  # rejected: 2 of 5 members rejected, under the trigger's half
    assert hold_of(api, "d1")["status"] == "held"
    post(api, member_apply(6, 90))  # rejected: now 3 of 6, the ring meets RING_MOSTLY_REJECTED

    for event_id in ("d1", "d2"):
        d = api.get(f"/v1/decisions/{event_id}").json()
        assert d["outcome"] == "delay", d  # what was answered then is kept as it was
        hold = d["hold"]
        assert hold["status"] == "rejected" and hold["outcome"] == "reject", hold
        assert hold["resolved_by"] == "reverse:RING_MOSTLY_REJECTED"
        assert hold["resolution"]["ring_id"] == "R000001" and hold["resolution"]["by_event"] == "a6"
        assert hold["resolution"]["reason"]["values"]["ring_rejected_share_or_0"] == 0.5
    assert hold_of(api, "h-dd")["status"] == "held"  # not in the ring: untouched

    told = topics(api)
    assert ("ring.flagged", "R000001") in told
    assert ("decision.revised", "d1") in told and ("decision.revised", "d2") in told
    assert not any(t[1] == "h-dd" for t in told)
    flagged = next(n for n in api.get("/v1/notifications", params={"topic": "ring.flagged"}).json()["items"])
    assert flagged["data"]["members"] == [f"c{i}" for i in range(1, 7)]  # lines already granted can be frozen
    actions = audit(runtime)
    assert ("decision.revise", "event:d1", "reverse:RING_MOSTLY_REJECTED") in actions
    assert ("ring.flag", "ring:R000001", "network") in actions
    metrics = api.get("/metrics").text
    assert 'tianwang_holds_ended_total{by="reverse",how="rejected"} 2.0' in metrics, metrics
    assert "tianwang_holds_open 1.0" in metrics  # the honest delay

    # The ring is flagged once; a later member's drawdown is rejected on the spot, not held.
    post(api, member_apply(7, 95))
    d3 = post(api, drawdown_event("d3", customer="c3", minute=100, device_id="farm-1"))
    assert d3["outcome"] == "reject", d3
    assert [t for t in topics(api) if t[0] == "ring.flagged"] == [("ring.flagged", "R000001")]
    assert hold_of(api, "d3") is None


def test_an_investigator_marking_a_ring_fraud_rejects_every_held_event(api, runtime, tmp_path, db_url):
    held_ring(api)
    honest_delay(api)
    r = api.post("/v1/rings/R000001/disposition",
                 json={"disposition": "fraud", "actor": "inv.zhang", "note": "same farm as case 17",
                       "fraud_type": "batch_attack"})
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["members"] == ["c1", "c2", "c3", "c4"] and sorted(done["revised"]) == ["d1", "d2"]
    for event_id in ("d1", "d2"):
        hold = hold_of(api, event_id)
        assert hold["status"] == "rejected" and hold["resolved_by"] == "person:inv.zhang", hold
        assert hold["resolution"]["reason"]["code"] == "RING_DISPOSITION_FRAUD"
    assert hold_of(api, "h-dd")["status"] == "held"
    assert ("ring.dispose", "ring:R000001", "person:inv.zhang") in audit(runtime)
    assert ("ring.flagged", "R000001") in topics(api)
    assert api.get("/v1/rings/R000001").json()["profile"]["fraud_share"] == 1.0

    # A new member's application meets RING_CONFIRMED_FRAUD (a reverse trigger), said in its reasons.
    a5 = post(api, member_apply(5, 85))
    assert a5["outcome"] == "reject" and "RING_CONFIRMED_FRAUD" in [r["code"] for r in a5["reasons"]], a5

    # The disposition is a record: a restart (no checkpoint: rebuilt from the log) keeps the marks.
    # The first process is taken as crashed: what it held of the data folder goes with it.
    runtime.folder_lock.close()
    runtime.folder_lock = None
    again = open_runtime(tmp_path / "data", None if db_url.startswith("sqlite") else db_url)
    try:
        assert again.live.networks["demo"].measures("c1")["ring_fraud_share"] > 0
        assert "d1" not in again.live.holds("demo").by_event and "h-dd" in again.live.holds("demo").by_event
    finally:
        again.close()


def test_not_fraud_clears_the_marks_and_leaves_held_events_held(api, runtime):
    held_ring(api)
    for disposition in ("fraud", "not_fraud"):
        r = api.post("/v1/rings/R000001/disposition", json={"disposition": disposition, "actor": "inv.li"})
        assert r.status_code == 201, r.text
    assert runtime.live.networks["demo"].measures("c1")["ring_fraud_share"] == 0.0
    with runtime.db.connect() as conn:
        assert [d["disposition"] for d in rings_repo.dispositions(conn, tenant="demo")] == ["fraud", "not_fraud"]


def test_a_delay_waiting_for_its_call_goes_to_a_person_by_the_tenants_clock(api, runtime, monkeypatch):
    """The delay names a call (its rule waits for the result, the default): at its end without one
    it is escalated, not paid out (issue 16, item 2)."""
    honest_delay(api)
    hold = hold_of(api, "h-dd")
    assert hold["status"] == "held" and hold["delay_until"], hold
    # An event of another customer a day later moves the tenant's clock past the delay.
    post(api, apply_event("later", customer="someone", minute=40 + 25 * 60))
    hold = hold_of(api, "h-dd")
    assert hold["status"] == "held" and hold["delay_until"] is None and hold["resolved_by"] is None, hold
    assert ("hold.escalated", "h-dd") in topics(api) and ("hold.released", "h-dd") not in topics(api)


def test_the_sweeper_releases_a_quiet_tenants_delay_as_wall_time_passes(api, runtime, monkeypatch):
    from tianwang.holds import book as holds_module
    from tianwang.holds.service import release_due

    honest_delay(api)
    assert release_due(live=runtime.live, metrics=runtime.metrics, tenant="demo") == 0  # not yet
    real = holds_module.time.monotonic
    monkeypatch.setattr(holds_module.time, "monotonic", lambda: real() + 25 * 3600)
    assert release_due(live=runtime.live, metrics=runtime.metrics, tenant="demo") == 1  # ended: to a person
    hold = hold_of(api, "h-dd")
    assert hold["status"] == "held" and hold["delay_until"] is None
    assert release_due(live=runtime.live, metrics=runtime.metrics, tenant="demo") == 0


def test_a_person_answers_a_held_event(api, runtime):
    held_ring(api)
    r = api.post("/v1/decisions/d1/resolve", json={"outcome": "pass", "actor": "ops.wang", "note": "called, genuine"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released" and r.json()["resolved_by"] == "person:ops.wang"
    r = api.post("/v1/decisions/d2/resolve", json={"outcome": "reject", "actor": "ops.wang"})
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    again = api.post("/v1/decisions/d1/resolve", json={"outcome": "reject", "actor": "ops.wang"})
    assert again.status_code == 409 and "already released" in again.json()["error"]["message"], again.text
    assert api.post("/v1/decisions/a1/resolve", json={"outcome": "pass", "actor": "x"}).status_code == 404
    assert api.post("/v1/decisions/nope/resolve", json={"outcome": "pass", "actor": "x"}).status_code == 404
    assert ("hold.release", "event:d1", "person:ops.wang") in audit(runtime)
    assert ("decision.revise", "event:d2", "person:ops.wang") in audit(runtime)
    held = api.get("/v1/holds", params={"status": "held"}).json()["items"]
    assert held == []
    assert [h["event_id"] for h in api.get("/v1/holds").json()["items"]] == ["d1", "d2"]


BAD_BODIES = [
    ({"outcome": "maybe", "actor": "a"}, "outcome"),
    ({"outcome": "pass"}, "actor"),
    ({"outcome": "pass", "actor": "   "}, "actor"),
    ({"outcome": "pass", "actor": "a" * 129}, "actor"),
    ({"outcome": "pass", "actor": "a\x00b"}, "actor"),
    ({"outcome": "pass", "actor": "a", "note": "n" * 2001}, "note"),
    ({"outcome": "pass", "actor": "a", "note": 5}, "note"),
    ({"outcome": "pass", "actor": "a", "admin": True}, "admin"),
    ({"outcome": ["pass"], "actor": "a"}, "outcome"),
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_bad_answers_are_refused_and_nothing_changes(api, runtime, body, field):
    held_ring(api)
    r = api.post("/v1/decisions/d1/resolve", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_body" and field in {d["field"] for d in error["detail"]}, error
    assert hold_of(api, "d1")["status"] == "held"


@pytest.mark.parametrize("raw, status", [
    (b"[1, 2]", 422), (b"not json", 400), (b"", 400), (b'{"outcome": "pass", "actor": "a"' + b" " * 300_000 + b"}", 413),
])
def test_malformed_and_oversized_bodies(api, raw, status):
    held_ring(api)
    r = api.post("/v1/decisions/d1/resolve", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert hold_of(api, "d1")["status"] == "held"


@pytest.mark.parametrize("ring_id, body, status, code", [
    ("R000999", {"disposition": "fraud", "actor": "a"}, 404, "not_found"),
    ("R1", {"disposition": "fraud", "actor": "a"}, 422, "invalid_query"),
    ("R000001;DROP", {"disposition": "fraud", "actor": "a"}, 422, "invalid_query"),
    ("R000001", {"disposition": "guilty", "actor": "a"}, 422, "invalid_body"),
    ("R000001", {"disposition": "fraud", "actor": "a", "fraud_type": "mischief"}, 422, "invalid_body"),
    ("R000001", {"disposition": "fraud", "actor": "<script>alert(1)</script>\r\n"}, 422, "invalid_body"),
    ("R000001", {"disposition": "fraud"}, 422, "invalid_body"),
    ("R000001", ["fraud"], 422, "invalid_body"),
])
def test_bad_dispositions_are_refused_and_nothing_is_stored(api, runtime, ring_id, body, status, code):
    held_ring(api)
    r = api.post(f"/v1/rings/{ring_id}/disposition", json=body)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    with runtime.db.connect() as conn:
        assert rings_repo.dispositions(conn, tenant="demo") == []
    assert hold_of(api, "d1")["status"] == "held"
    assert runtime.live.networks["demo"].measures("c1")["ring_fraud_share"] == 0.0


def test_another_tenant_cannot_dispose_of_or_read_this_tenants_holds(api, runtime, second_tenant):
    held_ring(api)
    other = api.with_key(second_tenant)
    assert other.post("/v1/rings/R000001/disposition", json={"disposition": "fraud", "actor": "x"}).status_code == 404
    assert other.post("/v1/decisions/d1/resolve", json={"outcome": "pass", "actor": "x"}).status_code == 404
    assert other.get("/v1/holds").json()["items"] == [] and other.get("/v1/notifications").json()["items"] == []
    assert hold_of(api, "d1")["status"] == "held"


@pytest.mark.parametrize("params", [{"status": "pending"}, {"limit": 0}, {"after": "x"}, {"topic": "everything"}])
def test_bad_list_parameters(api, params):
    path = "/v1/notifications" if "topic" in params else "/v1/holds"
    r = api.get(path, params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_query", r.text


def test_held_events_survive_a_restart_and_are_revised_after_it(tmp_path, db_url):
    db = None if db_url.startswith("sqlite") else db_url
    first = open_runtime(tmp_path / "data", db)
    with Server(first) as server, Client(server.url, DEMO_KEY) as api:
        held_ring(api)
        post(api, member_apply(5, 85))
    first.close()
    (tmp_path / "data" / "network.ckpt").unlink()  # the network is rebuilt from the log
    second = open_runtime(tmp_path / "data", db)
    try:
        assert sorted(second.live.holds("demo").by_event) == ["d1", "d2"]
        with Server(second) as server, Client(server.url, DEMO_KEY) as api:
            post(api, member_apply(6, 90))
            assert hold_of(api, "d1")["status"] == "rejected" and hold_of(api, "d2")["status"] == "rejected"
    finally:
        second.close()


def test_the_lending_system_hears_of_revised_decisions_by_signed_webhook(api, runtime):
    import time

    import orjson

    from tianwang.delivery.webhooks import WebhookDispatcher, verify_signature
    from tianwang.store import tenants as tenant_repo

    receiver = Receiver(statuses=[204] * 3)
    secret = "s3cret-for-this-lender-0123456789"
    with runtime.db.begin() as conn:
        tenant_repo.set_webhook(conn, id="demo", url=receiver.url, secret=secret)
    runtime.workers.dispatcher = WebhookDispatcher(runtime.db, poll_s=0.2)
    runtime.workers.dispatcher.start()
    try:
        held_ring(api)
        for i in (5, 6):
            post(api, member_apply(i, 80 + 5 * i))
        deadline = time.monotonic() + 10
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runtime.workers.dispatcher.stop()
        receiver.close()
    bodies = []
    for request in receiver.requests:
        headers, raw = request["headers"], request["body"]
        assert verify_signature(secret, headers["X-Tianwang-Signature"], raw), headers
        body = orjson.loads(raw)
        assert headers["X-Tianwang-Topic"] == body["topic"] and headers["X-Tianwang-Delivery"] == str(body["id"])
        bodies.append(body)
    assert [b["topic"] for b in bodies] == ["ring.flagged", "decision.revised", "decision.revised"], bodies
    revised = {b["data"]["event_id"]: b["data"] for b in bodies[1:]}
    assert sorted(revised) == ["d1", "d2"]
    assert revised["d1"]["from"] == "delay" and revised["d1"]["outcome"] == "reject"
    assert revised["d1"]["reason"]["code"] == "RING_MOSTLY_REJECTED"
    items = api.get("/v1/notifications").json()["items"]
    assert {n["delivery"] for n in items} == {"delivered"}


def test_a_failed_commit_of_the_tipping_event_leaves_the_holds_held_until_its_retry(api, runtime, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from tianwang.errors import StoreUnavailable
    from tianwang.ingest.walk import accept

    held_ring(api)
    post(api, member_apply(5, 85))
    demo = runtime.tenants.by_key(DEMO_KEY)

    def down(items):
        raise OperationalError("COMMIT", {}, Exception("disk unplugged"))

    with monkeypatch.context() as m:
        m.setattr(runtime.writer, "_commit", down)
        with pytest.raises(StoreUnavailable):
            accept(runtime, demo, member_apply(6, 90)).wait()
    assert hold_of(api, "d1")["status"] == "held"  # nothing of a6 was stored, its revisions neither
    post(api, apply_event("other", customer="someone", minute=91))  # the next walk rebuilds from the record
    assert sorted(runtime.live.holds("demo").by_event) == ["d1", "d2"]
    post(api, member_apply(6, 90))  # the retry tips the ring over again
    assert hold_of(api, "d1")["status"] == "rejected" and hold_of(api, "d2")["status"] == "rejected"
    assert [t for t in topics(api) if t[0] == "ring.flagged"] == [("ring.flagged", "R000001")]
