"""The graph API over real HTTP: neighbourhood, rings by risk, ring detail; auth, tenant
isolation, bad parameters and hostile ids."""

from __future__ import annotations

import threading

import pytest

from tests.api.test_network_api import ring_log
from tests.factories import apply_event

MEMBERS = [f"ring-c{i}" for i in range(1, 6)]


def post_all(client, events) -> None:
    for e in events:
        r = client.post("/v1/events", json=e)
        assert r.status_code == 201, r.text


def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


@pytest.fixture
def ring_api(api):
    post_all(api, ring_log())
    return api


def test_a_ring_is_listed_and_its_detail_names_members_and_the_shared_device(ring_api):
    r = ring_api.get("/v1/rings")
    assert r.status_code == 200, r.text
    rings = r.json()["rings"]
    assert len(rings) == 1, rings
    listed = rings[0]
    assert listed["size"] == 5 and listed["devices"] == 1 and 0 < listed["risk"] <= 1, listed

    r = ring_api.get(f"/v1/rings/{listed['id']}")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["id"] == listed["id"] and detail["size"] == 5
    assert [m["customer_id"] for m in detail["members"]] == MEMBERS
    device = next(s for s in detail["shared"] if s["kind"] == "device")
    assert device["value"] == "farm-device-1" and device["members"] == MEMBERS
    assert detail["timeline"] and detail["timeline"][0]["at"] == detail["first_seen"]
    assert "stranger" not in {m["customer_id"] for m in detail["members"]}


def test_the_neighbourhood_of_a_member_holds_the_others_and_the_device(ring_api):
    r = ring_api.get("/v1/customers/ring-c1/neighbourhood", params={"hops": 2, "max_nodes": 200})
    assert r.status_code == 200, r.text
    graph = r.json()
    ids = {n["id"] for n in graph["nodes"]}
    assert graph["center"] == "c:ring-c1" and not graph["truncated"]
    assert {f"c:{m}" for m in MEMBERS} <= ids
    assert "e:device:farm-device-1" in ids
    device_edges = {e["source"] for e in graph["edges"] if e["target"] == "e:device:farm-device-1"}
    assert device_edges == {f"c:{m}" for m in MEMBERS}
    member = next(n for n in graph["nodes"] if n["id"] == "c:ring-c3")
    assert member["ring_id"] == ring_api.get("/v1/rings").json()["rings"][0]["id"]
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])

    # Capped: the view says more was there.
    small = ring_api.get("/v1/customers/ring-c1/neighbourhood", params={"max_nodes": 2}).json()
    assert len(small["nodes"]) == 2 and small["truncated"] is True
    # One hop: the customer's entities and the customers sharing them, not those customers' own entities.
    one = ring_api.get("/v1/customers/ring-c1/neighbourhood", params={"hops": 1}).json()
    one_ids = {n["id"] for n in one["nodes"]}
    assert {"e:device:farm-device-1", "c:ring-c2"} <= one_ids
    own_of_c2 = {e["target"] for e in graph["edges"] if e["source"] == "c:ring-c2"} - {
        e["target"] for e in graph["edges"] if e["source"] == "c:ring-c1"}
    assert own_of_c2 and own_of_c2 <= ids and not own_of_c2 & one_ids


def test_rings_limit_and_an_empty_network(api):
    r = api.get("/v1/rings")
    assert r.status_code == 200 and r.json() == {"rings": []}, r.text
    post_all(api, ring_log())
    assert len(api.get("/v1/rings", params={"limit": 1}).json()["rings"]) == 1


@pytest.mark.parametrize("path, params, field", [
    ("/v1/customers/ring-c1/neighbourhood", {"hops": 0}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": 5}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": "two"}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": "2.5"}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": "-1"}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": ""}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": "٢"}, "hops"),  # a digit, but not 0-9
    ("/v1/customers/ring-c1/neighbourhood", {"hops": "9" * 400}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"hops": ["1", "2"]}, "hops"),
    ("/v1/customers/ring-c1/neighbourhood", {"max_nodes": 0}, "max_nodes"),
    ("/v1/customers/ring-c1/neighbourhood", {"max_nodes": 1001}, "max_nodes"),
    ("/v1/rings", {"limit": 0}, "limit"),
    ("/v1/rings", {"limit": 501}, "limit"),
    ("/v1/rings", {"limit": "lots"}, "limit"),
])
def test_bad_parameters_are_clear_422s(ring_api, path, params, field):
    error = assert_error(ring_api.get(path, params=params), 422, "invalid_query")
    assert error["message"].startswith(f"{field}:") and error["detail"][0]["field"] == field, error


@pytest.mark.parametrize("customer_id", [
    "x" * 129,
    "x" * 10_000,
    "a%00b",
    "a%0Ab",
    "a%1Bb",
    "a%7F",
    "-starts-with-dash",
    "..%2F..%2Fetc%2Fpasswd",
    "ring-c1%00",
    "名字",
    "%20",
])
def test_hostile_customer_ids_are_refused_not_500(ring_api, customer_id):
    r = ring_api.get(f"/v1/customers/{customer_id}/neighbourhood")
    assert assert_error(r, 422, "invalid_query")["detail"][0]["field"] == "customer_id"


@pytest.mark.parametrize("ring_id", ["R1", "R0000001", "r000001", "R00000x", "R" + "0" * 5000, "R000001%00",
                                     "..%2FR000001", "R%0A00001"])
def test_hostile_ring_ids_are_refused_not_500(ring_api, ring_id):
    r = ring_api.get(f"/v1/rings/{ring_id}")
    assert_error(r, 422, "invalid_query")


def test_unknown_customer_and_ring_are_404(ring_api):
    assert_error(ring_api.get("/v1/customers/nobody/neighbourhood"), 404, "not_found")
    assert_error(ring_api.get("/v1/rings/R999999"), 404, "not_found")
    # An id in ring form is 404, one that cannot be a ring id is 422.
    assert_error(ring_api.get("/v1/rings/ring-1"), 422, "invalid_query")


def test_customer_ids_with_a_slash_are_found(api):
    post_all(api, [apply_event(f"s-{i}", customer=f"branch/{i}", minute=i, device_id="slash-device") for i in range(2)])
    r = api.get("/v1/customers/branch/0/neighbourhood")
    assert r.status_code == 200, r.text
    assert {"c:branch/0", "c:branch/1", "e:device:slash-device"} <= {n["id"] for n in r.json()["nodes"]}


@pytest.mark.parametrize("path", ["/v1/rings", "/v1/rings/R000001", "/v1/customers/ring-c1/neighbourhood",
                                  "/v1/customers/ring-c1/neighbourhood?hops=99"])
def test_the_graph_api_needs_a_key(ring_api, path):
    assert_error(ring_api.with_key(None).get(path), 401, "unauthenticated")
    assert_error(ring_api.with_key("tw_not_a_key").get(path), 401, "unauthenticated")


def test_a_tenant_never_sees_another_tenants_rings(ring_api, second_tenant):
    other = ring_api.with_key(second_tenant)
    ring_id = ring_api.get("/v1/rings").json()["rings"][0]["id"]
    assert other.get("/v1/rings").json() == {"rings": []}
    assert_error(other.get(f"/v1/rings/{ring_id}"), 404, "not_found")
    assert_error(other.get("/v1/customers/ring-c1/neighbourhood"), 404, "not_found")

    # The other lender's own ring may carry the same id: each sees only its own members.
    theirs = [apply_event(f"b-{i}", customer=f"b-c{i}", minute=5 * i, device_id="b-farm") for i in range(1, 5)]
    post_all(other, theirs)
    their_rings = other.get("/v1/rings").json()["rings"]
    assert len(their_rings) == 1
    their_detail = other.get(f"/v1/rings/{their_rings[0]['id']}").json()
    assert [m["customer_id"] for m in their_detail["members"]] == [f"b-c{i}" for i in range(1, 5)]
    mine = ring_api.get(f"/v1/rings/{ring_id}").json()
    assert [m["customer_id"] for m in mine["members"]] == MEMBERS
    assert len(ring_api.get("/v1/rings").json()["rings"]) == 1
    assert_error(ring_api.get("/v1/customers/b-c1/neighbourhood"), 404, "not_found")
    assert "e:device:b-farm" not in {n["id"] for n in ring_api.get("/v1/customers/ring-c1/neighbourhood").json()["nodes"]}


def test_reads_while_events_arrive_are_consistent(ring_api, runtime):
    """Readers and the walk share the network: every read is one whole snapshot, never a 500."""
    from tests.serving import DEMO_KEY, Client

    stop = threading.Event()
    failures: list[str] = []

    def read() -> None:
        with Client(str(ring_api.base_url).rstrip("/"), DEMO_KEY) as reader:
            while not stop.is_set():
                for path in ("/v1/rings", "/v1/customers/ring-c1/neighbourhood?hops=4&max_nodes=1000"):
                    r = reader.get(path)
                    if r.status_code != 200:
                        failures.append(f"{path}: {r.status_code} {r.text}")
                    elif path == "/v1/rings":
                        for ring in r.json()["rings"]:
                            if ring["size"] < 4:
                                failures.append(f"a ring of {ring['size']}: {ring}")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        post_all(ring_api, [apply_event(f"more-{i}", customer=f"more-c{i}", minute=40 + i, device_id="farm-device-1")
                            for i in range(30)])
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert not failures, failures[:3]
    assert ring_api.get("/v1/rings").json()["rings"][0]["size"] >= 5


def test_a_retired_ring_says_where_it_went(api):
    def farm(prefix: str, device: str, minute: int, phone: str) -> list[dict]:
        return [apply_event(f"{prefix}-{minute}-{i}", customer=f"{prefix}{i}", minute=minute + i, device_id=device,
                            contacts=[{"phone": phone, "relation": "friend"}]) for i in range(4)]

    post_all(api, farm("a", "farm-a", 0, "13700003333") + farm("b", "farm-b", 60, "13700004444"))
    rings = {r["id"] for r in api.get("/v1/rings").json()["rings"]}
    assert len(rings) == 2, rings
    old, young = (api.get(f"/v1/customers/{c}/neighbourhood").json()["nodes"][0]["ring_id"] for c in ("a0", "b0"))
    assert old < young and {old, young} == rings
    post_all(api, farm("b", "farm-a", 120, "13700003333"))  # the b farm moves onto the a farm's device

    assert [r["id"] for r in api.get("/v1/rings").json()["rings"]] == [old]
    r = api.get(f"/v1/rings/{young}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == young and r.json()["retired"]["into"] == old and r.json()["retired"]["why"] == "merged"
    assert len(api.get(f"/v1/rings/{old}").json()["members"]) == 8


def _at(minute: int) -> str:
    from datetime import timedelta

    from tests.factories import BASE

    return (BASE + timedelta(minutes=minute)).isoformat()


def test_the_ring_report_lists_a_ring_in_the_hour_it_formed(ring_api):
    ring_id = ring_api.get("/v1/rings").json()["rings"][0]["id"]
    formed_at = ring_api.get(f"/v1/rings/{ring_id}").json()["first_seen"]

    # Default: the hour ending at the network's clock (the stranger's event, minute 40).
    r = ring_api.get("/v1/rings/report")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["period"]["hours"] == 1 and report["period"]["until"] == "2026-11-25T02:40:00Z", report["period"]
    assert [f["id"] for f in report["formed"]] == [ring_id], report
    formed = report["formed"][0]
    assert formed["size"] == 5 and 0 < formed["risk"] <= 1 and formed["first_seen"] == formed_at
    assert formed["joined"] == 5 and formed["joined_members"] == MEMBERS
    assert formed["applied"] == 5 and formed["applied_members"] == MEMBERS
    assert report["grew"] == report["split"] == report["merged"] == report["dissolved"] == []

    # A window that ends before the ring formed does not show it; one ending at its forming does.
    before = ring_api.get("/v1/rings/report", params={"hours": 1, "until": _at(10)}).json()
    assert before["formed"] == [] and before["grew"] == [], before
    assert before["period"] == {"since": "2026-11-25T01:10:00Z", "until": "2026-11-25T02:10:00Z", "hours": 1}
    assert [f["id"] for f in ring_api.get("/v1/rings/report", params={"until": formed_at}).json()["formed"]] == [ring_id]
    # The next hour: the ring was formed before it, so it is not formed again, and nothing joined.
    later = ring_api.get("/v1/rings/report", params={"until": _at(120)}).json()
    assert later["formed"] == [] and later["grew"] == [], later
    # A week-long window holds it too.
    week = ring_api.get("/v1/rings/report", params={"hours": 168, "until": _at(24 * 60)}).json()
    assert [f["id"] for f in week["formed"]] == [ring_id]


def test_the_ring_report_lists_growth_and_merges(api):
    def farm(prefix: str, device: str, minute: int, phone: str) -> list[dict]:
        return [apply_event(f"{prefix}-{minute}-{i}", customer=f"{prefix}{i}", minute=minute + i, device_id=device,
                            contacts=[{"phone": phone, "relation": "friend"}]) for i in range(4)]

    post_all(api, farm("a", "farm-a", 0, "13700003333") + farm("b", "farm-b", 60, "13700004444"))
    old, young = (api.get(f"/v1/customers/{c}/neighbourhood").json()["nodes"][0]["ring_id"] for c in ("a0", "b0"))
    post_all(api, farm("b", "farm-a", 180, "13700003333"))  # the b farm moves onto the a farm's device
    report = api.get("/v1/rings/report").json()
    assert report["formed"] == [] and report["dissolved"] == [], report
    assert [(m["id"], m["into"]) for m in report["merged"]] == [(young, old)], report
    assert report["merged"][0]["into_ring"]["size"] == 8
    assert [(g["id"], g["joined"]) for g in report["grew"]] == [(old, 4)], report
    assert report["grew"][0]["joined_members"] == ["b0", "b1", "b2", "b3"]


@pytest.mark.parametrize("params, field", [
    ({"hours": 0}, "hours"),
    ({"hours": 169}, "hours"),
    ({"hours": "one"}, "hours"),
    ({"hours": "1.5"}, "hours"),
    ({"hours": ""}, "hours"),
    ({"hours": ["1", "2"]}, "hours"),
    ({"until": "yesterday"}, "until"),
    ({"until": "2026-11-25T10:00:00"}, "until"),  # no time zone
    ({"until": "2026-11-25"}, "until"),
    ({"until": ""}, "until"),
    ({"until": "0001-01-01T00:00:00+14:00"}, "until"),
    ({"until": "2026-11-25T10:00:00Z" * 100}, "until"),
    ({"until": ["2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z"]}, "until"),
])
def test_bad_ring_report_parameters_are_clear_422s(ring_api, params, field):
    error = assert_error(ring_api.get("/v1/rings/report", params=params), 422, "invalid_query")
    assert error["message"].startswith(f"{field}:") and error["detail"][0]["field"] == field, error


def test_the_ring_report_needs_a_key(ring_api):
    for path in ("/v1/rings/report", "/v1/rings/report?hours=999"):
        assert_error(ring_api.with_key(None).get(path), 401, "unauthenticated")
        assert_error(ring_api.with_key("tw_not_a_key").get(path), 401, "unauthenticated")


def test_a_tenant_never_sees_another_tenants_ring_report(ring_api, second_tenant):
    other = ring_api.with_key(second_tenant)
    assert [f["id"] for f in ring_api.get("/v1/rings/report").json()["formed"]]
    for params in ({}, {"hours": 168, "until": _at(30)}):
        r = other.get("/v1/rings/report", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert all(body[k] == [] for k in ("formed", "grew", "split", "merged", "dissolved")), body
