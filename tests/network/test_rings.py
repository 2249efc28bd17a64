"""Rings: what is one and what is not, ids that stay put while rings grow, merge and split."""

from __future__ import annotations

from collections import defaultdict

from tests.network.helpers import DAY, event, feed, network
from tianwang.network.views import ring_detail

FAMILY_DEVICE = "family-phone-1"


def _family(net, minute: int = 0) -> None:
    """Three people on one phone, the parents' number in each other's contacts."""
    feed(net,
         event("dad", minute, "apply", device_id=FAMILY_DEVICE, phone="13645313812",
               contacts=[{"phone": "13745313813", "relation": "spouse"}]),
         event("mum", minute + 1, "apply", device_id=FAMILY_DEVICE, phone="13745313813",
               contacts=[{"phone": "13645313812", "relation": "spouse"}]),
         event("kid", minute + 2, "apply", device_id=FAMILY_DEVICE,
               contacts=[{"phone": "13645313812", "relation": "parent"}]))


def test_a_family_sharing_a_phone_is_not_a_ring():
    net = network()
    _family(net)
    m = net.measures("kid")
    assert m["net_component_size"] == 3 and m["ring_size"] == 0 and net.stats()["rings"] == 0


def test_a_family_and_a_stranger_on_one_id_number_is_not_a_ring():
    """Four linked, but nothing shared by four: an identity theft, not a farm."""
    net = network()
    _family(net)
    kid_id = "110105199003198678"
    feed(net, event("kid", 3, id_number=kid_id, device_id=FAMILY_DEVICE), event("thief", 4, id_number=kid_id))
    assert net.measures("thief")["net_component_size"] == 4 and net.stats()["rings"] == 0


def test_a_stranger_on_the_fathers_number_does_not_make_a_family_a_ring():
    """Four on one phone number — a household and a recycled number — but the stranger is tied by it alone."""
    net = network()
    _family(net)
    m = feed(net, event("stranger", 10, phone="13645313812"))
    assert m["net_phone_degree"] == 4 and m["net_component_size"] == 4
    assert net.stats()["rings"] == 0


def test_a_customer_tied_by_one_entity_is_an_associate_not_a_member():
    net = network()
    feed(net, *_farm("f", 5, "farm", 0))
    m = feed(net, event("visitor", 10, device_id="farm"))  # the farm's device, from elsewhere, once
    assert m["net_component_size"] == 6 and m["ring_size"] == 0 and m["net_device_degree"] == 6
    assert net.measures("f0")["ring_size"] == 5 and net.ring_of("visitor") is None


def test_hard_normal_crowds_of_the_simulator_are_in_no_ring(sim_run):
    from tianwang.network import Network
    from tests.network.helpers import POISON

    net = Network(poison=POISON)
    biggest = defaultdict(int)
    for rec, truth in sim_run:
        m = net.link(rec)
        if truth["group"] in ("campus", "family", "big_employer"):
            g = truth["group"]
            biggest[g] = max(biggest[g], m["net_component_size"])
            assert m["ring_size"] == 0, (g, rec["customer_id"])
    assert biggest["campus"] <= 3 and biggest["big_employer"] <= 3  # behind hub IPs and cells, yet apart
    assert set(biggest) == {"campus", "family", "big_employer"}


def test_a_simulated_ring_keeps_its_id_while_it_grows(sim_run):
    from tianwang.network import Network
    from tests.network.helpers import POISON

    net = Network(poison=POISON)
    seen: dict[str, set[str]] = defaultdict(set)  # true ring → predicted ids its members ever had
    sizes: dict[str, list[int]] = defaultdict(list)
    for rec, truth in sim_run:
        m = net.link(rec)
        if truth["ring_id"] and m["ring_id"]:
            seen[truth["ring_id"]].add(m["ring_id"])
            sizes[truth["ring_id"]].append(m["ring_size"])
    assert len(seen) >= 5
    for ring, ids in seen.items():
        assert len(ids) == 1, (ring, ids)
        assert sizes[ring] == sorted(sizes[ring]) and sizes[ring][-1] > sizes[ring][0], ring
    assert len({next(iter(ids)) for ids in seen.values()}) == len(seen)  # one id per true ring


def _farm(prefix: str, n: int, device: str, minute: int) -> list[dict]:
    """`n` customers on one device behind the farm's proxy: double-tied (a device and a place)."""
    return [event(f"{prefix}{i}", minute + i, device_id=device, ip=f"61.{len(device)}.{sum(map(ord, device)) % 250}.7")
            for i in range(n)]


def test_when_rings_merge_the_older_id_stays():
    net = network()
    feed(net, *_farm("a", 4, "farm-a", 0))
    feed(net, *_farm("b", 4, "farm-b", 60))
    old, young = net.ring_of("a0"), net.ring_of("b0")
    assert old == "R000001" and young == "R000002"
    # the b farm moves onto the a farm's device: one tight ring of eight
    m = feed(net, *(event(f"b{i}", 120 + i, device_id="farm-a", ip=_farm("a", 1, "farm-a", 0)[0]["ip"])
                    for i in range(4)))
    assert m["ring_id"] == old and m["ring_size"] == 8
    assert net.ring_members() == {old: sorted([f"a{i}" for i in range(4)] + [f"b{i}" for i in range(4)])}
    assert ring_detail(net, young)["retired"]["into"] == old
    assert any(t["what"] == "merged" and t["detail"] == young for t in ring_detail(net, old)["timeline"])


def test_when_a_ring_splits_its_id_stays_on_the_larger_part():
    net = network(split_min=1000)  # no Leiden: the component is the community
    # six on one device, four on another, one customer on both: one ring of eleven
    feed(net, *_farm("x", 6, "dev-x", 0), *_farm("y", 4, "dev-y", 10))
    feed(net, event("z", 20, device_id="dev-x", ip=_farm("x", 1, "dev-x", 0)[0]["ip"]),
         event("z", 21, device_id="dev-y", ip=_farm("y", 1, "dev-y", 0)[0]["ip"]))
    rid = net.ring_of("x0")
    assert net.measures("z")["ring_size"] == 11 and net.ring_of("y0") == rid
    # everyone but z is seen again later; z's links fade and the bridge is gone
    feed(net, *_farm("x", 6, "dev-x", 20 * DAY), *_farm("y", 4, "dev-y", 20 * DAY))
    feed(net, event("w", 31 * DAY))
    assert net.ring_of("x0") == rid and net.measures("x0")["ring_size"] == 6
    other = net.ring_of("y0")
    assert other not in (None, rid) and net.measures("y0")["ring_size"] == 4
    assert net.ring_of("z") is None
    assert any(t["what"] == "split" and t["detail"] == rid for t in ring_detail(net, other)["timeline"])


def test_leiden_splits_two_farms_joined_by_one_customer():
    net = network()
    feed(net, *_farm("x", 8, "dev-x", 0), *_farm("y", 8, "dev-y", 20))
    feed(net, event("z", 40, device_id="dev-x", ip=_farm("x", 1, "dev-x", 0)[0]["ip"]),
         event("z", 41, device_id="dev-y", ip=_farm("y", 1, "dev-y", 0)[0]["ip"]))
    assert net.measures("z")["net_component_size"] == 17
    rings = net.ring_members()
    assert len(rings) == 2
    assert {net.ring_of("x0"), net.ring_of("y0")} == set(rings) and net.ring_of("x0") == "R000001"


def test_leiden_keeps_one_ring_of_sub_teams_sharing_contacts():
    """Three emulators, one pool of contact numbers: one ring, not three."""
    net = network()
    pool = ["13645313812", "13745313813", "13845313814"]
    for i in range(18):
        feed(net, event(f"m{i}", i, "apply", device_id=f"emu-{i % 3}", gps={"lat": 23.12, "lon": 113.26},
                        contacts=[{"phone": pool[i % 3], "relation": "friend"},
                                  {"phone": pool[(i + 1) % 3], "relation": "friend"}]))
    assert len(net.ring_members()) == 1 and net.measures("m0")["ring_size"] == 18


def test_outcomes_feed_the_shares_and_the_hops():
    net = network()
    feed(net, *_farm("a", 5, "farm", 0))
    net.mark("a0", "reject")
    net.mark("a1", "pass")
    net.mark_fraud("a2")
    m = net.measures("a4")
    assert m["ring_rejected_share"] == 0.2 and m["ring_fraud_share"] == 0.2 and m["ring_blacklisted_share"] == 0.0
    # a chain p0 - p1 - p2 - p3 - p4 - p5 through phones
    chain = [event(f"p{i}", 100 + i, "apply", phone=f"1364531{3800 + i:04d}",
                   contacts=[{"phone": f"1364531{3800 + i + 1:04d}", "relation": "friend"}]) for i in range(6)]
    feed(net, *chain)
    assert net.measures("p5")["net_hops_to_blacklisted"] is None
    net.mark_blacklisted("p0")
    assert [net.measures(f"p{i}")["net_hops_to_blacklisted"] for i in range(6)] == [0, 1, 2, 3, 4, None]
    assert net.measures("a0")["net_hops_to_blacklisted"] is None
    net.mark_blacklisted("p0", on=False)
    assert net.measures("p1")["net_hops_to_blacklisted"] is None
