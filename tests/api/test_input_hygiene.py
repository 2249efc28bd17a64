"""Bodies that mean one thing to us and another to whoever sits in front of us, or that look like
an identifier they are not (issue 16, item 14): refused with a clear error, nothing stored."""

from __future__ import annotations

import pytest

from tests.factories import apply_event


def stored(api, event_id: str) -> bool:
    return api.get(f"/v1/decisions/{event_id}").status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_is_a_415(api, content_type):
    import orjson

    headers = {"content-type": content_type} if content_type else {}
    client = api.with_key(api.headers["X-API-Key"])
    client.headers.pop("content-type", None)
    res = client.post("/v1/events", content=orjson.dumps(apply_event("ct-1")), headers=headers)
    assert res.status_code == 415, res.text
    assert res.json()["error"]["code"] == "unsupported_media_type"
    assert not stored(api, "ct-1")


def test_json_with_a_charset_or_a_json_suffix_is_json(api):
    import orjson

    body = orjson.dumps(apply_event("ct-2"))
    assert api.post("/v1/events", content=body, headers={"content-type": "application/json; charset=utf-8"}).status_code == 201
    assert api.post("/v1/events", content=orjson.dumps(apply_event("ct-3", minute=1)),
                    headers={"content-type": "application/vnd.tianwang+json"}).status_code == 201


@pytest.mark.parametrize("raw", [
    b'{"event_id":"dup-1","scene":"apply","occurred_at":"2026-11-25T10:00:00+08:00","customer_id":"c1","amount":-5,"amount":100}',
    b'{"event_id":"dup-2","event_id":"dup-3","scene":"login","occurred_at":"2026-11-25T10:00:00+08:00","customer_id":"c1"}',
    b'{"event_id":"dup-4","scene":"apply","occurred_at":"2026-11-25T10:00:00+08:00","customer_id":"c1","amount":1,'
    b'"gps":{"lat":1,"lat" : 2,"lon":3}}',
])
def test_a_key_written_twice_is_refused_not_resolved(api, raw):
    res = api.post("/v1/events", content=raw, headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json()["error"]["code"] == "duplicate_key", res.text
    for event_id in ("dup-1", "dup-2", "dup-3", "dup-4"):
        assert not stored(api, event_id)


def test_a_text_holding_a_quoted_colon_is_no_duplicate(api):
    body = apply_event("q-1", purpose='he said "x": that is all')
    assert api.post("/v1/events", json=body).status_code == 201


@pytest.mark.parametrize("device_id", ["d\u202e\u200bx", "d\u0085x", "d\ufeffx", "d\u2066x"])
def test_an_identifier_with_invisible_or_direction_changing_characters_is_refused(api, device_id):
    res = api.post("/v1/events", json=apply_event("inv-1", device_id=device_id))
    assert res.status_code == 422 and "device_id" in res.text, res.text
    assert not stored(api, "inv-1")


def test_an_ipv6_zone_id_is_refused(api):
    res = api.post("/v1/events", json=apply_event("zone-1", ip="fe80::1%eth0"))
    assert res.status_code == 422 and "zone" in res.text, res.text
    assert api.post("/v1/events", json=apply_event("zone-2", ip="fe80::1")).status_code == 201
