"""Placeholders are dropped before hashing: a stand-in phone, contact phone or email that
passes validation links no one and counts in no phone-keyed window; a real shared one does."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tianwang.events import RECORD_FIELDS, Hasher, normalise, parse_event
from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tests.factories import BASE, apply_event
from tests.serving import open_runtime

DEMO = Tenant("demo", "demo")
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rt(tmp_path):
    rt = open_runtime(tmp_path / "data", None)
    yield rt
    rt.close()


def _register(event_id: str, customer: str, phone: str, minute: int) -> dict:
    return {"event_id": event_id, "scene": "register", "customer_id": customer, "phone": phone,
            "device_id": f"dev-{customer}", "occurred_at": (BASE + timedelta(minutes=minute)).isoformat()}


def _record(raw: dict) -> dict:
    return normalise(parse_event(raw), hasher=Hasher(b"k"), tz=TZ)


def test_normalise_drops_placeholders_before_hashing_and_names_them():
    raw = apply_event("e1", customer="a", phone="13800138000", email="null@qq.com", id_number="11010519491231002X",
                      contacts=[{"phone": "13800138000", "relation": "friend"}, {"phone": "13645313812"}])
    record = _record(raw)
    assert record["placeholders"] == ["phone", "id_number", "email", "contacts"]
    for gone in ("phone_hash", "phone_mask", "phone_prefix", "email_hash", "email_mask", "email_domain",
                 "id_number_hash", "id_number_mask", "id_region", "age", "gender"):
        assert gone not in record, gone
    assert record["contact_phone_hashes"] == [Hasher(b"k")("phone", "13645313812")]
    assert record["contact_count"] == 2  # the contact is still counted; only its hash is left out
    assert set(record) <= RECORD_FIELDS

    card = _record({"event_id": "e2", "scene": "bind_card", "customer_id": "a", "occurred_at": BASE.isoformat(),
                    "card_no": _zero_card("622999")})
    assert card["placeholders"] == ["card_no"] and "card_hash" not in card and "card_bin" not in card

    real = _record(apply_event("e3", customer="a", phone="13645313812", email="zhang.wei@163.com"))
    assert "placeholders" not in real and "phone_hash" in real and "email_hash" in real


def _zero_card(bin_: str) -> str:
    """A card of zeros after a BIN no placeholder list enumerates, with a valid Luhn digit."""
    from tianwang.garbage import _luhn_digit

    body = bin_ + "0" * 12
    return body + _luhn_digit(body)


def test_invalid_values_are_still_refused_not_dropped():
    from tianwang.events import EventError

    with pytest.raises(EventError):
        parse_event(apply_event("e1", phone="12345"))  # validation first: a malformed phone is an error


@pytest.mark.parametrize(("phone", "shared"), [("13800138000", False), ("13645313812", True)])
def test_a_placeholder_phone_links_no_one_and_counts_in_no_phone_window(rt, phone, shared):
    accept(rt, DEMO, _register("r1", "a", phone, 0)).wait()
    second = accept(rt, DEMO, _register("r2", "b", phone, 1)).wait()
    # register.yaml's phone_distinct_cust_30d: other accounts on this phone in 30 days
    assert (second["values"]["phone_distinct_cust_30d"] or 0) == (1 if shared else 0), second["values"]
    measures = rt.live.network("demo").measures("b")
    assert measures["net_phone_degree"] == (2 if shared else 0)


@pytest.mark.parametrize("field", ["contacts", "email"])
@pytest.mark.parametrize(("value", "shared"), [("placeholder", False), ("real", True)])
def test_a_placeholder_contact_phone_or_email_links_no_one(rt, field, value, shared):
    values = {"contacts": {"placeholder": [{"phone": "13800138000", "relation": "friend"}],
                           "real": [{"phone": "13645319999", "relation": "friend"}]},
              "email": {"placeholder": "null@qq.com", "real": "zhang.wei@163.com"}}[field]
    put = values[value]
    for i, customer in enumerate(("a", "b")):
        extra = {"contacts": put} if field == "contacts" else {"email": put, "contacts": [{"phone": f"1364531000{i}"}]}
        accept(rt, DEMO, apply_event(f"e-{customer}", customer=customer, minute=i, **extra)).wait()
    measures = rt.live.network("demo").measures("b")
    degree = "net_contact_phone_degree" if field == "contacts" else "net_email_degree"
    assert measures[degree] == (2 if shared else 0), measures
    assert measures["net_component_size"] == (2 if shared else 1)
