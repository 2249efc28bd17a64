"""Garbage never links: placeholders and junk in any linking field, in clear or hashed."""

from __future__ import annotations

import pytest

from tests.network.helpers import HASHER, event, feed, network, record
from tianwang.events import EventError
from tianwang.network import is_garbage, linking_entities
from tianwang.garbage import _luhn_digit, placeholder_values, poison_hashes

WORDS = ["", " ", "null", "NULL", "None", "nil", "undefined", "unknown", "Unknown", "n/a", "N/A", "-", "无", "未知",
         "000000", "0000000000", "00000000-0000-0000-0000-000000000000", "aaaaaaa", "123456789", "ffffffff", "(null)"]
IPS = ["0.0.0.0", "127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.1.1", "100.64.0.1", "169.254.10.1",
       "255.255.255.255", "224.0.0.1", "203.0.113.9", "::1", "fe80::1", "::"] + WORDS[:6]
PHONES = ["13800138000", "13000000000", "13333333333", "18888888888", "13912345678", "null", "", "00000000000"]
IDS = ["11010519491231002X", "440524188001010014", "111111111111111111", "000000000000000000", "unknown"]
BIN = "6222020000000000000"[:-1]
CARDS = ["0000000000000000", "4111111111111111", BIN + _luhn_digit(BIN), "6200000000000005", "null"]
EMAILS = ["null@qq.com", "test@test.com", "a@163.com", "none@none.com", "noreply@example.com", "aaaa@qq.com"]

# field → (scene, how the value is put in the event, the degree measure that would show a link)
FIELDS = {
    "device_id": ("login", lambda v: {"device_id": v}, ["net_device_degree"]),
    "ip": ("login", lambda v: {"ip": v}, ["net_ip_degree", "net_ip24_degree"]),
    "phone": ("login", lambda v: {"phone": v}, ["net_phone_degree"]),
    "id_number": ("login", lambda v: {"id_number": v}, ["net_id_number_degree"]),
    "card_no": ("bind_card", lambda v: {"card_no": v}, ["net_card_degree"]),
    "payee_card": ("drawdown", lambda v: {"payee_card": v}, ["net_payee_card_degree"]),
    "email": ("login", lambda v: {"email": v}, ["net_email_degree"]),
    "employer": ("apply", lambda v: {"employer": v}, ["net_employer_degree"]),
    "address": ("apply", lambda v: {"address": v}, ["net_address_degree"]),
    "contacts": ("apply", lambda v: {"contacts": [{"phone": v, "relation": "friend"}]}, ["net_contact_phone_degree"]),
}
HOSTILE = ([("device_id", v) for v in WORDS + ["9774d56d682e549c", "02:00:00:00:00:00"]]
           + [("ip", v) for v in IPS] + [("phone", v) for v in PHONES] + [("contacts", v) for v in PHONES]
           + [("id_number", v) for v in IDS] + [("card_no", v) for v in CARDS] + [("payee_card", v) for v in CARDS]
           + [("email", v) for v in EMAILS] + [("employer", v) for v in WORDS] + [("address", v) for v in WORDS])
REAL = {"device_id": "a1b2c3d4e5f60718", "ip": "116.228.40.7", "phone": "13645313812", "contacts": "13645313812",
        "id_number": "110105199003198678", "card_no": "6222020115244939092", "payee_card": "6222020115244939092",
        "email": "zhang.wei@163.com", "employer": "深圳某科技有限公司", "address": "北京市朝阳路12号"}


def _two_customers_sharing(field: str, value) -> dict | None:
    """Measures of the second of two customers whose events carry `value` in `field`; None if rejected."""
    scene, put, _ = FIELDS[field]
    net = network()
    try:
        a = record(event("a", 0, scene, **put(value)))
        b = record(event("b", 1, scene, **put(value)))
    except EventError:
        return None  # refused at the edge: it never reaches the graph
    net.link(a)
    return net.link(b)


@pytest.mark.parametrize(("field", "value"), HOSTILE)
def test_garbage_never_links(field, value):
    m = _two_customers_sharing(field, value)
    if m is None:
        return
    for name in FIELDS[field][2]:
        assert m[name] == 0, (field, value, name, m[name])
    assert m["net_component_size"] == 1


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_real_shared_value_links(field):
    """The control: the same two events with a real value do link (so the test above can fail)."""
    m = _two_customers_sharing(field, REAL[field])
    assert m is not None
    assert all(m[name] == 2 for name in FIELDS[field][2])


def test_gps_of_null_island_never_links():
    net = network()
    m = feed(net, event("a", 0, gps={"lat": 0, "lon": 0}), event("b", 1, gps={"lat": 0.0, "lon": 0.0}))
    assert m["net_gps_cell_degree"] == 0
    m = feed(net, event("c", 2, gps={"lat": 31.2, "lon": 121.5}), event("d", 3, gps={"lat": 31.2, "lon": 121.5}))
    assert m["net_gps_cell_degree"] == 2


@pytest.mark.parametrize(("kind", "value", "garbage"), [
    ("device", "00000000-0000-0000-0000-000000000000", True), ("device", "a1b2c3d4e5f60718", False),
    ("ip", "127.0.0.1", True), ("ip", "192.168.0.10", True), ("ip", "8.8.8.8", False),
    ("ip", "2001:db8::1", True), ("ip", "240e:3a1::1", False), ("ip", "not an ip", True),
    ("phone", "13800138000", True), ("phone", "13700000000", True), ("phone", "13645313812", False),
    ("id_number", "11010519491231002X", True), ("id_number", "110105199003198678", False),
    ("card", "6217001111111111115", True), ("card", "6222020115244939092", False),
    ("email", "unknown@gmail.com", True), ("email", "zhang.wei@163.com", False),
    ("employer", "暂无", True), ("employer", "国家电网", False), ("address", "   ", True),
    ("device", None, True), ("device", 12345, True),
])
def test_is_garbage_judges_clear_values(kind, value, garbage):
    assert is_garbage(kind, value) is garbage


def test_every_enumerated_placeholder_is_garbage_and_poisoned_when_hashed():
    poison = poison_hashes(HASHER)
    for kind, values in placeholder_values().items():
        for v in values:
            assert is_garbage(kind, v), (kind, v)
            assert HASHER(kind, v) in poison


def test_a_placeholder_in_clear_is_dropped_before_hashing():
    rec = record(event("a", 0, phone="13800138000"))
    assert "phone_hash" not in rec and rec["placeholders"] == ["phone"]


def test_a_hashed_placeholder_is_refused_only_through_the_poison_set():
    # A record whose phone arrived already hashed (stored before normalise dropped placeholders).
    rec = record(event("a", 0))
    rec["phone_hash"] = HASHER("phone", "13800138000")
    kinds = {kind for kind, _, _ in linking_entities(rec)}
    poisoned = {kind for kind, _, _ in linking_entities(rec, poison_hashes(HASHER))}
    assert len(kinds) == len(poisoned) + 1  # the phone, and only it
