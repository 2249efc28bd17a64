"""A beacon speaks for a customer only with the lender's word for it (issue 16, item 6).

Anyone can post a beacon naming any customer (the site id is public). Without a customer token
from the lender's back end (`POST /v1/collect/customer-token`), its events are the device's and
the session's: the named customer's next application reads none of them.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.api.test_collect_api import apply_on, form_events
from tianwang.collect import tokens


def anonymous(api, customer: str, **extra):
    body = {"v": 1, "batch_id": str(uuid.uuid4()), "customer_id": customer,
            "events": form_events(pasted=True, fill_ms=900), **extra}
    return api.post("/v1/collect", params={"site": "demo"}, json=body, headers={"X-API-Key": ""})


def codes(decision: dict) -> set[str]:
    return {r["code"] for r in decision["reasons"]}


def test_a_forged_beacon_does_not_flag_the_customer_it_names(api):
    res = anonymous(api, "c-victim")
    assert res.status_code == 200 and res.json()["customer"] == "unverified", res.text
    d = apply_on(api, "victim-apply", "c-victim", "dev-victim", after_s=30)
    assert not codes(d) & {"APPLY_FORM_TOO_FAST", "APPLY_ID_PASTED"}, d
    events = api.get("/v1/customers/c-victim/timeline").json()["items"]
    assert [e["event_id"] for e in events] == ["victim-apply"]  # nothing of the beacon is the victim's


def test_with_the_lenders_token_the_beacon_speaks_for_its_customer(api):
    token = api.post("/v1/collect/customer-token", json={"customer_id": "c-real", "ttl_s": 600})
    assert token.status_code == 201, token.text
    res = anonymous(api, "c-real", customer_token=token.json()["token"])
    assert res.json()["customer"] == "verified"
    d = apply_on(api, "real-apply", "c-real", "dev-real", after_s=30)
    assert {"APPLY_FORM_TOO_FAST", "APPLY_ID_PASTED"} <= codes(d), d


@pytest.mark.parametrize("case", ["another customer's", "expired", "forged", "another tenant's"])
def test_a_token_that_is_not_this_customers_counts_for_nothing(api, runtime, case):
    key = runtime.customer_key
    now = int(time.time() * 1000)
    token = {
        "another customer's": lambda: tokens.issue(key, tenant="demo", customer_id="c-other", now_ms=now)[0],
        "expired": lambda: tokens.issue(key, tenant="demo", customer_id="c-x", now_ms=now - 7_200_000, ttl_s=3600)[0],
        "forged": lambda: tokens.issue(b"not the key", tenant="demo", customer_id="c-x", now_ms=now)[0],
        "another tenant's": lambda: tokens.issue(key, tenant="other", customer_id="c-x", now_ms=now)[0],
    }[case]()
    assert anonymous(api, "c-x", customer_token=token).json()["customer"] == "unverified"


def test_the_lenders_back_end_may_post_a_beacon_with_its_key(api):
    body = {"v": 1, "batch_id": str(uuid.uuid4()), "customer_id": "c-server", "events": form_events(pasted=True, fill_ms=900)}
    res = api.post("/v1/collect", params={"site": "demo"}, json=body)  # the client sends the demo tenant's key
    assert res.json()["customer"] == "verified"


@pytest.mark.parametrize("body,field", [({}, "customer_id"), ({"customer_id": "a b"}, "customer_id"),
                                        ({"customer_id": "c-1", "ttl_s": 10}, "ttl_s"),
                                        ({"customer_id": "c-1", "ttl_s": "600"}, "ttl_s"),
                                        ({"customer_id": "c-1", "extra": 1}, "customer_id")])
def test_a_bad_token_request_is_a_422_naming_the_field(api, body, field):
    res = api.post("/v1/collect/customer-token", json=body)
    assert res.status_code == 422 and field in res.text, res.text


def test_a_token_needs_the_api_key(api):
    assert api.with_key(None).post("/v1/collect/customer-token", json={"customer_id": "c-1"}).status_code == 401
