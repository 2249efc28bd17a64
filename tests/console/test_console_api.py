"""The console's API through HTTP, for each role: live decisions, a customer, rings and their
disposition, the policy loop (validate, diff, backtest, publish, roll back) and lists."""

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
        for name, role in (("ana", "analyst"), ("ivy", "investigator"), ("adam", "admin")):
            user_repo.create_user(conn, tenant="demo", username=name, password_hash=hash_password(PASSWORD), role=role)
    with Server(runtime) as server, Client(server.url, DEMO_KEY) as api:
        def person(name: str) -> httpx.Client:
            client = httpx.Client(base_url=server.url, timeout=120)
            r = client.post("/console/api/signin", json={"tenant": "demo", "username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            client.headers["X-CSRF-Token"] = r.json()["csrf"]
            return client
        yield runtime, api, person


def ring_with_holds(api) -> None:
    for i in range(1, 5):
        assert api.post("/v1/events", json=apply_event(f"a{i}", customer=f"c{i}", minute=5 * i, device_id="farm-1",
                                                       contacts=CONTACTS)).status_code == 201
    for i in (1, 2):
        d = api.post("/v1/events", json=drawdown_event(f"d{i}", customer=f"c{i}", minute=30 + i, device_id="farm-1")).json()
        assert d["outcome"] == "delay", d


def test_live_decisions_newest_first_then_after(world):
    rt, api, person = world
    ring_with_holds(api)
    ana = person("ana")
    page = ana.get("/console/api/decisions", params={"limit": 3}).json()
    assert [d["event_id"] for d in page["items"]] == ["a4", "d1", "d2"] and page["last_seq"] == page["items"][-1]["seq"]
    assert api.post("/v1/events", json=apply_event("a9", customer="c9", minute=90)).status_code == 201
    more = ana.get("/console/api/decisions", params={"after": page["last_seq"]}).json()
    assert [d["event_id"] for d in more["items"]] == ["a9"]
    assert ana.get("/console/api/decisions", params={"outcome": "delay"}).json()["items"][0]["outcome"] == "delay"
    assert ana.get("/console/api/decisions", params={"outcome": "maybe"}).status_code == 422
    assert httpx.get(f"{ana.base_url}/console/api/decisions").status_code == 401


def test_a_customer_and_the_ring_then_an_investigator_marks_it_fraud(world):
    rt, api, person = world
    ring_with_holds(api)
    ana, ivy = person("ana"), person("ivy")
    c1 = ana.get("/console/api/customers/c1").json()
    assert c1["ring_id"] == "R000001" and [h["status"] for h in c1["holds"]] == ["held"]
    assert c1["devices"] == ["farm-1"] and {d["event_id"] for d in c1["decisions"]} == {"a1", "d1"}
    assert ana.get("/console/api/customers/nobody").status_code == 404
    assert ana.get("/console/api/customers/%3Cscript%3E").status_code == 422
    assert ana.get("/console/api/rings").json()["rings"][0]["id"] == "R000001"
    assert {m["customer_id"] for m in ana.get("/console/api/rings/R000001").json()["members"]} == {"c1", "c2", "c3", "c4"}
    graph = ana.get("/console/api/customers/c1/neighbourhood").json()
    assert graph["center"] == "c:c1" and graph["edges"]
    body = {"disposition": "fraud", "fraud_type": "batch_attack", "note": "one farm"}
    assert ana.post("/console/api/rings/R000001/disposition", json=body).status_code == 403  # analysts do not dispose
    done = ivy.post("/console/api/rings/R000001/disposition", json=body)
    assert done.status_code == 201 and sorted(done.json()["revised"]) == ["d1", "d2"], done.text
    assert [h["status"] for h in ana.get("/console/api/customers/c1").json()["holds"]] == ["rejected"]
    assert ivy.post("/console/api/rings/R000001/disposition", json={"disposition": "guilty"}).status_code == 422


def test_the_policy_loop_edit_validate_diff_publish_then_the_next_event_uses_it(world):
    rt, api, person = world
    ana, ivy = person("ana"), person("ivy")
    live = ana.get("/console/api/policy").json()
    assert live["live"]["version"] == 1 and live["live"]["summary"]["rules"] > 100
    files = ana.get("/console/api/policy/files").json()["files"]
    edited = dict(files)
    edited["strategies/apply.yaml"] = files["strategies/apply.yaml"].replace(
        "  - name: apply_main\n    scene: apply\n    mode: active\n    on_error: review\n    timeout_ms: 50\n    bands:\n",
        "  - name: apply_main\n    scene: apply\n    mode: active\n    on_error: review\n    timeout_ms: 50\n    bands:\n"
        "      - {min_score: 0, outcome: review}\n", 1)
    assert edited["strategies/apply.yaml"] != files["strategies/apply.yaml"]
    assert ana.post("/console/api/policy/validate", json={"files": edited}).status_code == 200
    broken = {**edited, "strategies/apply.yaml": edited["strategies/apply.yaml"].replace("outcome: review", "outcome: explode", 1)}
    bad = ana.post("/console/api/policy/validate", json={"files": broken})
    assert bad.status_code == 422 and "strategies/apply.yaml" in bad.json()["error"]["message"], bad.text
    assert "min_score: 0" in ana.post("/console/api/policy/diff", json={"files": edited}).json()["diff"]
    assert ivy.post("/console/api/policy/publish", json={"files": edited, "note": "x"}).status_code == 403
    r = ana.post("/console/api/policy/publish", json={"files": edited, "note": "review every application"})
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    d = api.post("/v1/events", json=apply_event("after-publish", customer="c-new", minute=200)).json()
    assert d["policy_version"] == 2 and d["outcome"] == "review", d
    r = ana.post("/console/api/policy/rollback", json={})
    assert r.status_code == 201 and r.json() == {"version": 3, "from": 1}
    d = api.post("/v1/events", json=apply_event("after-rollback", customer="c-new2", minute=201)).json()
    assert d["policy_version"] == 3 and d["outcome"] == "pass", d
    for bad_files in ({"../../etc/passwd.yaml": "x"}, {"a.txt": "x"}, {}, "files"):
        assert ana.post("/console/api/policy/validate", json={"files": bad_files}).status_code == 422


def test_a_backtest_of_an_edited_bundle_against_the_live_one(world):
    rt, api, person = world
    ana = person("ana")
    files = ana.get("/console/api/policy/files").json()["files"]
    r = ana.post("/console/api/policy/backtest", json={"files": files, "customers": 100, "days": 1})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["events"] > 200 and out["figures"]["outcomes"] == out["against"]["outcomes"]  # the same bundle
    assert set(out["figures"]["targets"]) >= {"ring_apply_stopped", "normal_apply_rejected"}
    assert ana.post("/console/api/policy/backtest", json={"files": files, "customers": 10**7}).status_code == 422
    assert person("ivy").post("/console/api/policy/backtest", json={"files": files}).status_code == 403


def test_lists_from_the_console(world):
    rt, api, person = world
    ivy = person("ivy")
    entry = {"list_type": "black", "entity": "device", "value": "farm-9", "reason": "<img src=x onerror=alert(1)>"}
    assert ivy.post("/console/api/lists", json={"entries": [entry]}).status_code == 201
    listed = ivy.get("/console/api/lists", params={"list_type": "black"}).json()["entries"]
    assert listed[0]["reason"] == entry["reason"]  # kept as text; the console renders it as text
    assert ivy.delete("/console/api/lists/black/device/farm-9").status_code == 200
    assert ivy.post("/console/api/lists", json={"entries": [{**entry, "list_type": "purple"}]}).status_code == 422
