"""Interventions through HTTP: a delayed drawdown's calls and messages become tasks; the call
centre's answer comes back; a customer who denies the drawdown has it rejected."""

from __future__ import annotations

from tests.api.test_reverse_api import hold_of, honest_delay


def tasks(api, **params) -> list[dict]:
    r = api.get("/v1/interventions", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_denied_call_rejects_the_held_drawdown(api, runtime, second_tenant):
    honest_delay(api)
    decided = api.get("/v1/decisions/h-dd").json()
    queued = tasks(api, event_id="h-dd")
    assert sorted(t["kind"] for t in queued) == sorted(i for i in decided["interventions"] if i != "freeze"), queued
    assert {t["status"] for t in queued} == {"queued"}
    call = next(t for t in queued if t["kind"] in ("manual_call", "ai_call"))
    other = api.with_key(second_tenant)
    assert other.post(f"/v1/interventions/{call['id']}/result", json={"outcome": "denied"}).status_code == 404
    assert api.post(f"/v1/interventions/{call['id']}/result", json={"outcome": "maybe"}).status_code == 422
    assert api.post(f"/v1/interventions/{call['id']}/result", json={"outcome": "denied", "x": 1}).status_code == 422
    r = api.post(f"/v1/interventions/{call['id']}/result", json={"outcome": "denied", "by": "agent 7",
                                                                  "detail": {"said": "I did not borrow"}})
    assert r.status_code == 201, r.text
    hold = hold_of(api, "h-dd")
    assert hold["status"] == "rejected" and hold["resolved_by"] == "person:intervention", hold
    assert api.post(f"/v1/interventions/{call['id']}/result", json={"outcome": "denied"}).status_code == 409
    assert api.post("/v1/interventions/999999/result", json={"outcome": "denied"}).status_code == 404
    feedback = api.get(f"/v1/decisions/iv-{call['id']}")
    assert feedback.status_code == 200 and feedback.json()["scene"] == "behavior"
    assert tasks(api, customer_id="honest") and api.get("/v1/interventions").status_code == 422


def test_the_denial_is_a_variable_the_next_drawdown_reads(api, runtime):
    from tests.factories import drawdown_event

    honest_delay(api)
    call = next(t for t in tasks(api, event_id="h-dd") if t["kind"] in ("manual_call", "ai_call"))
    assert api.post(f"/v1/interventions/{call['id']}/result", json={"outcome": "denied"}).status_code == 201
    d = api.post("/v1/events", json=drawdown_event("h-dd-2", customer="honest", minute=60, amount=100_000,
                                                   name="张三", payee_name="张三")).json()
    assert d["outcome"] == "reject" and "DD_CUSTOMER_DENIED" in {r["code"] for r in d["reasons"]}, d
