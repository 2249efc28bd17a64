"""The clock that ends a scam-protection delay cannot be moved by a client (issue 16, item 1).

A delay protects a victim's money; it ends when its end has passed on a clock that no client can
push ahead. Live, an event moves the tenant's hold clock at most to the server's wall clock, and
an anonymous beacon never moves it; a replay or a backtest ends delays by event time alone.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

from tianwang.holds.service import release_due
from tianwang.timefmt import iso


def now_ms() -> int:
    return int(time.time() * 1000)


def delayed_drawdown(api, event_id: str, customer: str) -> dict:
    """A drawdown the default policy delays 24 h (remote control during a large drawdown), sent
    a minute after it happened, as a lending system's events are."""
    body = {"event_id": event_id, "scene": "drawdown", "occurred_at": iso(now_ms() - 60_000), "customer_id": customer,
            "amount": 5_000_000, "credit_limit": 6_000_000, "remote_control": True}
    answer = api.post("/v1/events", json=body).json()
    assert answer["outcome"] == "delay", answer
    assert datetime.fromisoformat(answer["delay_until"]) > datetime.now(timezone.utc) + timedelta(hours=23)
    return answer


def hold_of(api, event_id: str) -> dict:
    return api.get(f"/v1/decisions/{event_id}").json()["hold"]


def released_notifications(api) -> list[dict]:
    items = api.get("/v1/notifications", params={"after": 0}).json()["items"]
    return [n for n in items if n["topic"] == "hold.released"]


def test_an_anonymous_beacon_dated_tomorrow_releases_no_delay(api):
    delayed_drawdown(api, "dd-1", "c-dd")
    tomorrow = now_ms() + 86_399_000
    beacon = {"v": 1, "batch_id": str(uuid.uuid4()),
              "events": [{"type": "page_view", "ts": tomorrow, "url": "https://lender.example/"}]}
    res = api.post("/v1/collect", params={"site": "demo"}, json=beacon, headers={"X-API-Key": ""})
    assert res.status_code == 200, res.text
    assert hold_of(api, "dd-1")["status"] == "held"
    assert released_notifications(api) == []


def test_an_event_dated_2099_does_not_disable_delays(api, runtime):
    far = {"event_id": "far-1", "scene": "login", "occurred_at": "2099-12-31T00:00:00+00:00", "customer_id": "c-far"}
    assert api.post("/v1/events", json=far).status_code == 201
    delayed_drawdown(api, "dd-2", "c-dd2")
    api.post("/v1/events", json={"event_id": "next-1", "scene": "login", "occurred_at": iso(now_ms()),
                                 "customer_id": "c-other"})
    assert release_due(live=runtime.live, metrics=runtime.metrics, tenant="demo") == 0  # the sweeper, too
    assert hold_of(api, "dd-2")["status"] == "held"
    assert released_notifications(api) == []
    book = runtime.live.holds("demo")
    assert book.clock <= now_ms()


def test_a_delay_waiting_for_a_callback_goes_to_a_person_when_it_ends_without_one(api, runtime, monkeypatch):
    """Issue 16, item 2: with interventions off nobody calls; the payout must not go by itself."""
    delayed_drawdown(api, "dd-3", "c-dd3")  # its rule names a manual call: it waits for the call's result
    later = time.time() + 25 * 3600  # the server's own clock a day and an hour on
    monkeypatch.setattr(time, "time", lambda: later)
    api.post("/v1/events", json={"event_id": "next-2", "scene": "login", "occurred_at": iso(int(later * 1000)),
                                 "customer_id": "c-other"})
    hold = hold_of(api, "dd-3")
    assert hold["status"] == "held" and hold["delay_until"] is None, hold  # now a person's to decide
    assert released_notifications(api) == []
    items = api.get("/v1/notifications", params={"after": 0}).json()["items"]
    assert [n["data"]["event_id"] for n in items if n["topic"] == "hold.escalated"] == ["dd-3"]
    res = api.post("/v1/decisions/dd-3/resolve", json={"outcome": "pass", "actor": "ops.wang"})
    assert res.status_code == 200 and res.json()["status"] == "released"
