"""DeviceRegistry.resolve: tokens, storage, drift re-identified, look-alikes kept apart, history, checkpoint."""

from __future__ import annotations

import orjson
import pytest

from tests.device.helpers import IPHONE, LAPTOP, vary
from tianwang.device import DeviceError, DeviceRegistry

KEY = b"test-device-key"
DAY = 86_400_000
T = 1_767_225_600_000


@pytest.fixture
def reg() -> DeviceRegistry:
    return DeviceRegistry(KEY)


def first(reg: DeviceRegistry, raw: dict = LAPTOP, **kw):
    return reg.resolve(raw, token=None, ip=kw.pop("ip", "61.1.2.3"), ts=kw.pop("ts", T), **kw)


def test_a_new_device_gets_an_id_and_a_signed_token_that_brings_it_back(reg):
    r = first(reg)
    assert r.how == "new" and r.device_id.startswith("D") and len(r.device_id) == 17
    dev, issued, mac = r.token.split(".")
    assert dev == r.device_id and issued == str(T) and len(mac) == 32
    again = reg.resolve(vary(LAPTOP, storage_id=None), token=r.token, ip="8.8.8.8", ts=T + DAY)
    assert again.how == "token" and again.device_id == r.device_id and again.confidence > 0.95
    assert not again.signals["token_forged"] and not again.signals["token_mismatch"]
    assert again.changed == ("storage_id",)


def test_ids_come_from_the_key_and_a_counter_not_from_the_attributes():
    a, b = DeviceRegistry(KEY), DeviceRegistry(b"another key")
    assert first(a).device_id != first(b).device_id
    assert first(DeviceRegistry(KEY)).device_id == first(DeviceRegistry(KEY)).device_id


@pytest.mark.parametrize("forge", [
    lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # bad signature
    lambda t: "D0000000000000000" + t[17:],  # another device id under the same mac
    lambda t: "not a token",
    lambda t: DeviceRegistry(b"other").resolve(LAPTOP, token=None, ip=None, ts=T).token,  # unknown device
])
def test_a_forged_token_is_ignored_and_flagged(reg, forge):
    r = first(reg)
    again = reg.resolve(vary(LAPTOP, storage_id=None), token=forge(r.token), ip="61.1.2.9", ts=T + DAY)
    assert again.signals["token_forged"] and again.how != "token"


def test_a_replayed_token_on_contradicting_hardware_is_not_trusted(reg):
    victim = first(reg, customer_id="C1")
    thief = vary(IPHONE, storage_id="thief-storage")
    r = reg.resolve(thief, token=victim.token, ip="100.64.0.1", ts=T + DAY, customer_id="C2")
    assert r.signals["token_mismatch"] and not r.signals["token_forged"]
    assert r.device_id != victim.device_id and r.how == "new"
    assert r.signals["device_customers_30d"] == 1


def test_a_known_storage_id_brings_the_device_back(reg):
    r = first(reg)
    again = reg.resolve(LAPTOP, token=None, ip="61.1.2.3", ts=T + DAY)
    assert again.how == "storage" and again.device_id == r.device_id


@pytest.mark.parametrize("drift", [
    {"browser": {"version": 133}, "user_agent": LAPTOP["user_agent"].replace("132", "133"),
     "ua_ch": {"brands": [["Not A(Brand", "8"], ["Chromium", "133"], ["Google Chrome", "133"]]}},
    {"fonts": LAPTOP["fonts"] + ["JetBrains Mono"]},
    {"screen": {"w": 2560, "h": 1440, "avail_w": 2560, "avail_h": 1400, "dpr": 1.0}},
])
def test_drift_with_cleared_storage_is_re_identified(reg, drift):
    """A browser update, a font installed, an external monitor — each with storage cleared."""
    before = first(reg, customer_id="C1")
    changed = vary(LAPTOP, storage_id="fresh-storage", **drift)
    r = reg.resolve(changed, token=None, ip="61.1.2.3", ts=T + DAY, customer_id="C1")
    assert r.device_id == before.device_id and r.how == "fuzzy" and 0.5 < r.confidence < 1
    assert set(r.changed) == {"storage_id", *drift}


def test_cleared_storage_without_drift_is_an_exact_match(reg):
    before = first(reg, customer_id="C1")
    r = reg.resolve(vary(LAPTOP, storage_id="fresh"), token=None, ip="61.1.2.3", ts=T + DAY, customer_id="C1")
    assert (r.device_id, r.how) == (before.device_id, "exact")


def test_private_mode_on_the_same_network_is_re_identified_without_a_customer(reg):
    before = first(reg)
    r = reg.resolve(vary(LAPTOP, storage_id=None), token=None, ip="61.1.2.77", ts=T + DAY)
    assert r.device_id == before.device_id


def test_a_lower_browser_version_is_another_device(reg):
    before = first(reg, customer_id="C1")
    older = vary(LAPTOP, storage_id=None, browser={"version": 120})
    assert reg.resolve(older, token=None, ip="61.1.2.3", ts=T + DAY, customer_id="C1").device_id != before.device_id


def test_two_hardware_identical_phones_of_different_users_are_not_merged(reg):
    """Same model, same OS, same browser: identical hashes. Different owners, storage, networks."""
    a = reg.resolve(IPHONE, token=None, ip="39.1.1.5", ts=T, customer_id="alice")
    b = reg.resolve(vary(IPHONE, storage_id="iphone-storage-2"), token=None, ip="39.1.1.6", ts=T + 1000,
                    customer_id="bob")
    assert a.device_id != b.device_id and b.how == "new"
    # even not logged in, in private mode, on the same carrier network: a doubt is a new device
    c = reg.resolve(vary(IPHONE, storage_id=None), token=None, ip="39.1.1.7", ts=T + 2000)
    assert c.device_id not in (a.device_id, b.device_id)
    # while each comes back by its token, and alice after clearing storage by her login
    assert reg.resolve(IPHONE, token=b.token, ip="39.1.1.6", ts=T + DAY).device_id == b.device_id
    again = reg.resolve(vary(IPHONE, storage_id="iphone-storage-9"), token=None, ip="117.3.3.3", ts=T + DAY,
                        customer_id="alice")
    assert again.device_id == a.device_id


def test_customers_on_a_device_and_in_its_signals(reg):
    r = first(reg, customer_id="C1")
    reg.resolve(LAPTOP, token=r.token, ip=None, ts=T + 10 * DAY, customer_id="C2")
    last = reg.resolve(LAPTOP, token=r.token, ip=None, ts=T + 35 * DAY, customer_id="C3")
    assert last.signals["device_customers_30d"] == 2  # C1 was 35 days ago
    assert reg.customers_on(r.device_id, T) == {"C1": T, "C2": T + 10 * DAY, "C3": T + 35 * DAY}
    assert set(reg.customers_on(r.device_id, T + 5 * DAY)) == {"C2", "C3"}
    assert reg.customers_on("Dnope", 0) == {}


def test_history_keeps_visits_and_at_most_50_changes(reg):
    r = first(reg)
    for i in range(60):
        r = reg.resolve(vary(LAPTOP, languages=["zh-CN"] if i % 2 else ["en-US"]), token=r.token, ip=None, ts=T + i + 1)
    h = reg.history(r.device_id)
    assert h["visits"] == 61 and h["first_seen"] == T and h["last_seen"] == T + 60
    assert len(h["changes"]) == 50 and h["changes"][-1] == (T + 60, ["languages"])
    assert h["attrs"]["languages"] == ["zh-CN"]


def test_signals_merge_the_attribute_signals(reg):
    r = reg.resolve(vary(LAPTOP, automation={"webdriver": True}, platform="MacIntel"), token=None, ip=None, ts=T)
    assert r.signals["automation"] and r.signals["tampered"] and r.signals["device_customers_30d"] == 0


def test_garbage_attributes_raise(reg):
    with pytest.raises(DeviceError):
        reg.resolve("nope", token=None, ip=None, ts=T)


def test_checkpoint_round_trip(reg):
    r1 = first(reg, customer_id="C1")
    r2 = reg.resolve(IPHONE, token=None, ip="39.1.1.5", ts=T + 1, customer_id="C2")
    reg.resolve(vary(LAPTOP, fonts=LAPTOP["fonts"][:-1]), token=r1.token, ip="61.1.9.9", ts=T + 2)
    body = orjson.loads(orjson.dumps(reg.to_body()))  # plain data
    back = DeviceRegistry.from_body(body, KEY)
    assert back.to_body() == body
    for name, fresh in (("original", reg), ("restored", back)):
        a = fresh.resolve(vary(LAPTOP, storage_id="new-one"), token=None, ip="61.1.9.9", ts=T + DAY, customer_id="C1")
        b = fresh.resolve(IPHONE, token=r2.token, ip=None, ts=T + DAY)
        assert (a.device_id, a.how, b.device_id, b.how) == (r1.device_id, "fuzzy", r2.device_id, "token"), name
    assert back.resolve(LAPTOP, token=None, ip=None, ts=T + 2 * DAY).device_id == reg.resolve(
        LAPTOP, token=None, ip=None, ts=T + 2 * DAY).device_id
    assert first(back, ts=T + 3 * DAY, raw=vary(IPHONE, storage_id="x", canvas="other")).device_id == first(
        reg, ts=T + 3 * DAY, raw=vary(IPHONE, storage_id="x", canvas="other")).device_id


def crowd(reg: DeviceRegistry, n: int = 200) -> None:
    """n devices of other hardware, so that the registry knows enough to call hardware rare."""
    for i in range(n):
        raw = vary(LAPTOP, canvas=f"other-{i}", webgl={"renderer": f"GPU {i}", "hash": f"h{i}"}, audio=f"a{i}",
                   storage_id=f"crowd-{i}")
        reg.resolve(raw, token=None, ip=f"10.{i}.0.1", ts=T - DAY)


def test_rare_hardware_is_re_identified_after_clearing_until_a_look_alike_shows_up(reg):
    crowd(reg)
    before = first(reg, ip="61.1.2.3")
    # storage cleared, no login, another network: the hardware alone brings it back
    again = reg.resolve(vary(LAPTOP, storage_id="cleared-1"), token=None, ip="117.8.8.8", ts=T + DAY)
    assert again.device_id == before.device_id and again.how == "exact"
    # a look-alike (another user, same make) with a fresh storage is taken for it: unavoidable once...
    twin = reg.resolve(vary(LAPTOP, storage_id="twin-1"), token=None, ip="117.9.9.9", ts=T + 2 * DAY)
    assert twin.device_id == before.device_id
    # ...but when the first browser comes back with its older storage_id, two browsers answer to one
    # device: the make is no longer rare, and the next fresh storage_id is a new device
    reg.resolve(vary(LAPTOP, storage_id="cleared-1"), token=again.token, ip="61.1.2.3", ts=T + 3 * DAY)
    other = reg.resolve(vary(LAPTOP, storage_id="twin-2"), token=None, ip="117.7.7.7", ts=T + 4 * DAY)
    assert other.device_id != before.device_id and other.how == "new"


def test_hardware_alone_in_a_small_registry_is_not_called_rare(reg):
    before = first(reg)
    again = reg.resolve(vary(LAPTOP, storage_id="cleared-1"), token=None, ip="117.8.8.8", ts=T + DAY)
    assert again.device_id != before.device_id
