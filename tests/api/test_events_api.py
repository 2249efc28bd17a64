"""POST /v1/events and friends over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy

import pytest

from tests.factories import apply_event, drawdown_event


def test_an_application_gets_a_decision_with_reasons_and_version(api):
    r = api.post("/v1/events", json=apply_event("e-1"))
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["outcome"] in {"pass", "review", "verify", "delay", "reject"}
    assert d["strategy_version"] == f"{d['strategy']}@{d['policy_version']}"
    assert d["policy_version"] >= 1 and d["latency_ms"] > 0
    assert d["duplicate"] is False and d["fallback"] is None
    assert "values" not in d  # the answer stays small; GET /v1/decisions has the values


def test_reasons_name_code_text_and_the_values_that_triggered_them(api):
    # A drawdown of nearly the whole line, on a call, at 3 am, to a payee never seen: telecom-scam pattern.
    api.post("/v1/events", json=apply_event("s-0", customer="elder", birth_year=1956))
    r = api.post("/v1/events", json=drawdown_event("s-1", customer="elder", amount=4_950_000, limit=5_000_000,
                                                   on_call=True, hour=3, birth_year=1956))
    d = r.json()
    assert d["outcome"] != "pass", d
    reason = d["reasons"][0]
    assert set(reason) >= {"code", "text", "values", "outcome", "score"}
    assert reason["values"], "a reason shows the values it read"
    assert "{" not in reason["text"], "placeholders are filled in"


def test_the_stored_decision_has_the_values_used(api):
    api.post("/v1/events", json=apply_event("e-2"))
    r = api.get("/v1/decisions/e-2")
    assert r.status_code == 200
    d = r.json()
    assert d["values"], "the variable values used are stored"
    assert all(isinstance(k, str) for k in d["values"])


def test_a_repeat_returns_the_stored_decision_and_counts_nothing_twice(api):
    event = apply_event("dup-1", customer="c-dup")
    first = api.post("/v1/events", json=event).json()
    again = api.post("/v1/events", json=event)
    assert again.status_code == 200
    second = again.json()
    assert second["duplicate"] is True
    assert {k: v for k, v in second.items() if k not in ("duplicate", "latency_ms")} == {
        k: v for k, v in first.items() if k not in ("duplicate", "latency_ms")
    }
    items = api.get("/v1/customers/c-dup/timeline").json()["items"]
    assert [i["event_id"] for i in items] == ["dup-1"]


def test_the_same_event_id_with_another_body_is_a_conflict_and_stores_nothing(api):
    api.post("/v1/events", json=apply_event("dup-2", customer="c-409"))
    changed = apply_event("dup-2", customer="c-409", amount=123_400)
    r = api.post("/v1/events", json=changed)
    assert r.status_code == 409
    assert "different body" in r.json()["error"]["message"]
    assert api.get("/v1/decisions/dup-2").json()["values"]  # the first decision stands
    assert len(api.get("/v1/customers/c-409/timeline").json()["items"]) == 1


@pytest.mark.parametrize(
    "mutate, field, fragment",
    [
        (lambda e: e.pop("event_id"), "event_id", "required"),
        (lambda e: e.pop("occurred_at"), "occurred_at", "required"),
        (lambda e: e.update(amount=1234.5), "amount", "integer"),
        (lambda e: e.update(amount="100"), "amount", "integer"),
        (lambda e: e.update(amount=-5), "amount", "greater than or equal"),
        (lambda e: e.update(amount=True), "amount", "integer"),
        (lambda e: e.update(occurred_at="2026-11-25T10:00:00"), "occurred_at", "timezone"),
        (lambda e: e.update(occurred_at="yesterday"), "occurred_at", "datetime"),
        (lambda e: e.update(id_number="110105194912310021"), "id_number", "MOD 11-2"),
        (lambda e: e.update(phone="12345"), "phone", "mobile"),
        (lambda e: e.update(ip="999.1.1.1"), "ip", "IPv4"),
        (lambda e: e.update(gps={"lat": 91, "lon": 0}), "gps.lat", "less than or equal"),
        (lambda e: e.update(contacts=[{"phone": "138"}]), "contacts.0.phone", "mobile"),
        (lambda e: e.update(customer_id="a b"), "customer_id", "pattern"),
        (lambda e: e.update(device_id="x" * 600), "device_id", "at most"),
        (lambda e: e.update(employer="evil\x00name"), "employer", "control"),
        (lambda e: e.update(scene="teleport"), "scene", "unknown scene"),
        (lambda e: e.update(note={"a": {"b": {"c": {"d": {"e": 1}}}}}), "", "nested deeper"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_stored(api, mutate, field, fragment):
    event = apply_event("bad-1", customer="c-bad")
    mutate(event)
    r = api.post("/v1/events", json=event)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert any(d["field"] == field for d in err["detail"]), err
    assert fragment.lower() in str(err).lower()
    assert api.get("/v1/decisions/bad-1").status_code == 404
    assert api.get("/v1/customers/c-bad/timeline").json()["items"] == []


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"scene": "apply", "amount": 1', 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b"[1, 2]", 422, "invalid_event"),
        (b'"just a string"', 422, "invalid_event"),
        (b'{"scene": "apply", "amount": NaN}', 400, "invalid_json"),
    ],
)
def test_malformed_bodies(api, body, status, code):
    r = api.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_an_oversized_body_is_413_and_nothing_is_stored(api):
    event = apply_event("big-1")
    event["padding"] = ["x" * 500] * 60
    event["more"] = {f"k{i}": "y" * 500 for i in range(60)}
    event["more2"] = {f"k{i}": "z" * 500 for i in range(60)}
    event["more3"] = {f"k{i}": "w" * 500 for i in range(60)}
    event["more4"] = {f"k{i}": "v" * 500 for i in range(60)}
    event["more5"] = {f"k{i}": "u" * 500 for i in range(60)}
    event["more6"] = {f"k{i}": "t" * 500 for i in range(60)}
    event["more7"] = {f"k{i}": "s" * 500 for i in range(60)}
    event["more8"] = {f"k{i}": "r" * 500 for i in range(60)}
    event["more9"] = {f"k{i}": "q" * 500 for i in range(60)}
    r = api.post("/v1/events", json=event)
    assert r.status_code == 413
    assert api.get("/v1/decisions/big-1").status_code == 404


def test_hostile_strings_are_stored_as_text_and_come_back_unchanged(api):
    hostile = ["'; DROP TABLE events; --", "<script>alert(1)</script>", "${jndi:ldap://x}", "ñ中文🙂", "\\u0000", "%s%n"]
    for i, text in enumerate(hostile):
        event = apply_event(f"hostile-{i}", customer="c-hostile")
        event.update(employer=text, device_id=text, city=text, extra_note=text)
        r = api.post("/v1/events", json=event)
        assert r.status_code == 201, r.text
    items = api.get("/v1/customers/c-hostile/timeline").json()["items"]
    assert sorted(i["event"]["employer"] for i in items) == sorted(hostile)
    assert sorted(i["event"]["attributes"]["extra_note"] for i in items) == sorted(hostile)


def test_personal_data_is_stored_hashed_and_shown_masked(api):
    event = apply_event("pii-1", customer="c-pii")
    api.post("/v1/events", json=event)
    stored = api.get("/v1/customers/c-pii/timeline").json()["items"][0]["event"]
    text = str(stored)
    assert event["phone"] not in text and event["id_number"] not in text
    assert stored["phone_mask"] == event["phone"][:3] + "****" + event["phone"][-4:]
    assert stored["id_number_mask"].startswith(event["id_number"][:6])
    assert len(stored["phone_hash"]) == 24


def test_unknown_attributes_are_kept(api):
    event = apply_event("extra-1", customer="c-extra")
    event["loan_officer"] = "王五"
    event["campaign"] = {"source": "wechat", "tags": ["a", "b"]}
    api.post("/v1/events", json=event)
    stored = api.get("/v1/customers/c-extra/timeline").json()["items"][0]["event"]
    assert stored["attributes"] == {"loan_officer": "王五", "campaign": {"source": "wechat", "tags": ["a", "b"]}}


def test_batch_gives_each_item_its_own_result(api):
    good = apply_event("b-1", customer="c-batch")
    bad = apply_event("b-2", customer="c-batch")
    bad["amount"] = "lots"
    r = api.post("/v1/events/batch", json={"events": [good, bad, copy.deepcopy(good)]})
    assert r.status_code == 200
    body = r.json()
    assert [x["status"] for x in body["results"]] == [201, 422, 200]
    assert body["results"][1]["error"]["detail"][0]["field"] == "amount"
    assert body["results"][2]["decision"]["duplicate"] is True
    assert body["accepted"] == 2 and body["failed"] == 1


def test_batch_limits(api):
    assert api.post("/v1/events/batch", json={"events": []}).status_code == 422
    assert api.post("/v1/events/batch", json={"items": []}).status_code == 422
    many = [apply_event(f"m-{i}") for i in range(501)]
    r = api.post("/v1/events/batch", json={"events": many})
    assert r.status_code == 413
    assert api.get("/v1/decisions/m-0").status_code == 404


def test_no_or_wrong_api_key_is_401(api):
    anon = api.with_key(None)
    assert anon.post("/v1/events", json=apply_event("k-1")).status_code == 401
    assert api.with_key("tw_wrong").get("/v1/decisions/k-1").status_code == 401


def test_one_tenant_never_sees_another_tenants_data(api, second_tenant):
    api.post("/v1/events", json=apply_event("t-1", customer="c-shared"))
    other = api.with_key(second_tenant)
    assert other.get("/v1/decisions/t-1").status_code == 404
    assert other.get("/v1/customers/c-shared/timeline").json()["items"] == []
    # the same event_id is free for the other tenant, and its windows start empty
    r = other.post("/v1/events", json=apply_event("t-1", customer="c-shared"))
    assert r.status_code == 201


def test_health_and_metrics(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    api.post("/v1/events", json=apply_event("met-1"))
    text = api.get("/metrics").text
    assert "tianwang_decisions_total{" in text and 'scene="apply"' in text
    assert "tianwang_decision_seconds_bucket" in text


def test_timeline_pages_newest_first(api):
    for i in range(5):
        api.post("/v1/events", json=apply_event(f"tl-{i}", customer="c-tl", minute=i))
    first = api.get("/v1/customers/c-tl/timeline", params={"limit": 2}).json()
    assert [i["event_id"] for i in first["items"]] == ["tl-4", "tl-3"]
    nxt = api.get("/v1/customers/c-tl/timeline", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["event_id"] for i in nxt["items"]] == ["tl-2", "tl-1"]
    older = api.get("/v1/customers/c-tl/timeline", params={"before": first["items"][1]["occurred_at"]}).json()
    assert [i["event_id"] for i in older["items"]] == ["tl-2", "tl-1", "tl-0"]
    assert api.get("/v1/customers/c-tl/timeline", params={"limit": 0}).status_code == 422
    assert api.get("/v1/customers/c-tl/timeline", params={"cursor": "x'; --"}).status_code == 422
    assert api.get("/v1/customers/c-tl/timeline", params={"before": "2026-01-01T00:00:00"}).status_code == 422


def test_timeline_pages_do_not_skip_events_of_the_same_millisecond(api):
    for i in range(5):
        api.post("/v1/events", json=apply_event(f"same-{i}", customer="c-same", minute=0))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/customers/c-same/timeline", params=params).json()
        seen += [i["event_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"same-{i}" for i in range(5)]


def test_the_readme_example_decides_and_a_stand_in_value_is_named_in_the_answer(api):
    """Issue 16, item 23: the README's event uses values that link; one that holds a placeholder says so."""
    import json
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    body = json.loads(re.search(r"-d '(\{.*?\})'", readme, re.S).group(1))
    answer = api.post("/v1/events", json=body).json()
    assert answer["event_id"] == body["event_id"] and "placeholders" not in answer, answer
    stand_in = {**body, "event_id": "a-0002", "phone": "13800138000"}
    named = api.post("/v1/events", json=stand_in).json()
    assert named["placeholders"] == ["phone"], named
    again = api.post("/v1/events", json=stand_in).json()  # a repeat, answered from the record
    assert again["duplicate"] is True and again["placeholders"] == ["phone"]
