"""Helpers of the case tests: alerts, rings and held events made through the public interfaces."""

from __future__ import annotations

from tests.factories import apply_event, drawdown_event
from tianwang.cases.alerts import alerts_for
from tianwang.ingest.walk import accept

CONTACTS = [{"phone": "13700001111", "relation": "friend"}, {"phone": "13700002222", "relation": "colleague"}]


def run(rt, effects) -> None:
    """Run effects as the writer does: in one transaction."""
    with rt.db.begin() as conn:
        for effect in effects:
            effect(conn)


def review(rt, event_id: str, customer: str, *, ts: int = 1_000, score: int = 40, ring_id: str | None = None,
           outcome: str = "review", code: str = "R_TEST", tenant: str = "demo") -> None:
    """A decision of `outcome` for an event of `customer`, its alerts run at once."""
    record = {"event_id": event_id, "customer_id": customer, "ts": ts, "scene": "apply"}
    decision = {"event_id": event_id, "outcome": outcome, "score": score,
                "reasons": [{"code": code, "text": f"text of {code}", "outcome": outcome}]}
    run(rt, alerts_for(tenant, record, decision, ring_id))


def walk(rt, demo, event: dict) -> dict:
    return accept(rt, demo, event).wait()


def held_ring(rt, demo) -> str:
    """Four applicants on one device with the same two contacts form a ring; two members'
    drawdowns are delayed (held). The ring's id."""
    for i in range(1, 5):
        walk(rt, demo, apply_event(f"a{i}", customer=f"c{i}", minute=5 * i, device_id="farm-1", contacts=CONTACTS))
    for i in (1, 2):
        d = walk(rt, demo, drawdown_event(f"d{i}", customer=f"c{i}", minute=30 + i, device_id="farm-1"))
        assert d["outcome"] == "delay", d
    ring_id = rt.live.network("demo").ring_of("c1")
    assert ring_id is not None and sorted(rt.live.network("demo").members_of(ring_id)) == ["c1", "c2", "c3", "c4"]
    return ring_id


def honest_delay(rt, demo) -> None:
    """A customer outside any ring, drawing most of the line to a stranger while on a call: held."""
    walk(rt, demo, apply_event("h-apply", customer="honest", minute=0))
    d = walk(rt, demo, drawdown_event("h-dd", customer="honest", minute=40, amount=1_800_000, on_call=True,
                                      name="张三", payee_name="王五"))
    assert d["outcome"] == "delay", d

