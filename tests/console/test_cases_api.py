"""Cases through the console's API: reviews raise alerts grouped into cases by the walk, an
investigator works one to a disposition, and the disposition flows back (held events, lists)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import apply_event, drawdown_event
from tests.serving import DEMO_KEY, Client, Server
from tianwang.console.auth import hash_password
from tianwang.store import users as user_repo

PASSWORD = "correct horse battery"
CONTACTS = [{"phone": "13700001111", "relation": "friend"}, {"phone": "13700002222", "relation": "colleague"}]


@pytest.fixture
def world(runtime):
    with runtime.db.begin() as conn:
        for name, role in (("ana", "analyst"), ("ivy", "investigator")):
            user_repo.create_user(conn, tenant="demo", username=name, password_hash=hash_password(PASSWORD), role=role)
    with Server(runtime) as server, Client(server.url, DEMO_KEY) as api:
        def person(name: str) -> httpx.Client:
            client = httpx.Client(base_url=server.url, timeout=60)
            r = client.post("/console/api/signin", json={"tenant": "demo", "username": name, "password": PASSWORD})
            client.headers["X-CSRF-Token"] = r.json()["csrf"]
            return client
        yield runtime, api, person


def reviewed_ring(api) -> None:
    """A ring of four whose fourth and fifth members' applications are sent to review, and two
    members' drawdowns held: the reviews raise alerts in one ring case."""
    for i in range(1, 5):
        api.post("/v1/events", json=apply_event(f"a{i}", customer=f"c{i}", minute=5 * i, device_id=f"dev-{i}",
                                                contacts=CONTACTS, phone=f"1391111000{i}", card_no=None))
    for i in (1, 2):
        api.post("/v1/events", json=drawdown_event(f"d{i}", customer=f"c{i}", minute=30 + i, device_id=f"dev-{i}"))


def test_a_review_raises_an_alert_in_a_case_and_an_investigator_disposes_of_it(world):
    rt, api, person = world
    reviewed_ring(api)
    reviews = [d for d in person("ana").get("/console/api/decisions", params={"outcome": "review"}).json()["items"]]
    assert reviews, "the scenario must produce a review"
    ivy, ana = person("ivy"), person("ana")
    queue = ivy.get("/console/api/cases", params={"status": "open"}).json()["items"]
    assert queue and queue[0]["alerts"] >= 1 and "first_at" in queue[0], queue
    case_id = queue[0]["id"]
    detail = ivy.get(f"/console/api/cases/{case_id}").json()
    assert detail["alerts"] and detail["customers"], detail
    assert ana.post(f"/console/api/cases/{case_id}/assign", json={"owner": "ivy"}).status_code == 403
    assert ivy.post(f"/console/api/cases/{case_id}/assign", json={"owner": "ivy"}).status_code == 200
    assert ivy.get("/console/api/cases", params={"owner": "me"}).json()["items"][0]["id"] == case_id
    assert ivy.post(f"/console/api/cases/{case_id}/status", json={"status": "investigating"}).status_code == 200
    hostile = "<img src=x onerror=alert(1)> called the customer"
    assert ivy.post(f"/console/api/cases/{case_id}/notes", json={"text": hostile}).status_code == 201
    assert ivy.post(f"/console/api/cases/{case_id}/notes", json={"text": ""}).status_code == 422
    assert ivy.post(f"/console/api/cases/{case_id}/notes", json={"text": "x\x00"}).status_code == 422
    r = ivy.post(f"/console/api/cases/{case_id}/dispose",
                 json={"disposition": "fraud", "fraud_type": "batch_attack", "note": "one farm"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["customers"] and done["labels"] > 0, done
    after = ivy.get(f"/console/api/cases/{case_id}").json()
    assert after["case"]["status"] == "closed" and after["case"]["disposition"] == "fraud"
    assert any(n["text"] == hostile for n in after["notes"])  # stored as text, shown as text
    black = {e["value"] for e in ivy.get("/console/api/lists", params={"list_type": "black"}).json()["entries"]}
    assert set(done["customers"]) <= black
    again = ivy.post(f"/console/api/cases/{case_id}/dispose", json={"disposition": "fraud", "fraud_type": "batch_attack",
                                                                    "note": "twice"})
    assert again.status_code == 409


@pytest.mark.parametrize("path, body", [
    ("/console/api/cases/abc", None),
    ("/console/api/cases/999999", None),
])
def test_unknown_and_malformed_cases(world, path, body):
    rt, api, person = world
    r = person("ivy").get(path)
    assert r.status_code in (404, 422), r.text


def test_bad_queue_parameters(world):
    rt, api, person = world
    ivy = person("ivy")
    for params in ({"status": "pending"}, {"limit": 0}, {"after": "x"}):
        assert ivy.get("/console/api/cases", params=params).status_code == 422
