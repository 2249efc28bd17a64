"""Links: seen on the event that makes them, fading after the window, hubs damped, the clock guarded."""

from __future__ import annotations

from tests.network.helpers import DAY, event, feed, network, record
from tianwang.network import MEASURES, Network, NetworkConfig


def test_measures_are_there_on_the_event_that_makes_the_link():
    net = network()
    m = feed(net, event("a", 0))
    assert m["net_device_degree"] == 1 and m["net_component_size"] == 1
    m = feed(net, event("b", 5, device_id="dev-a"))
    assert m["net_device_degree"] == 2 and m["net_component_size"] == 2
    assert set(m) == set(MEASURES)


def test_a_ring_is_there_on_the_event_that_completes_it():
    net = network()
    for k, cid in enumerate("abc"):
        m = feed(net, event(cid, k, device_id="farm-1", ip="61.4.5.6"))
        assert m["ring_size"] == 0
    m = feed(net, event("d", 3, device_id="farm-1", ip="61.4.5.6"))
    assert m["ring_size"] == 4 and m["ring_id"] == "R000001" and m["ring_max_customers_per_device"] == 4
    assert net.ring_of("a") == "R000001"


def test_links_fade_after_the_window():
    net = network(window_ms=30 * 86_400_000)
    feed(net, event("a", 0, device_id="shared"), event("b", 1, device_id="shared"))
    assert net.measures("b")["net_component_size"] == 2
    m = feed(net, event("c", 29 * DAY))  # inside the window: still linked
    assert net.measures("b")["net_device_degree"] == 2
    m = feed(net, event("c", 30 * DAY + 2))  # a and b were last seen more than 30 days ago
    assert m["net_component_size"] == 1
    assert net.measures("b")["net_component_size"] == 1 and net.measures("b")["net_device_degree"] == 0
    assert net.stats()["links"] == len(net.graph.edges[net.graph.cust_index["c"]])  # only c's links are left


def test_a_link_seen_again_lives_on():
    net = network()
    feed(net, event("a", 0, device_id="shared"), event("b", 1, device_id="shared"))
    feed(net, event("a", 20 * DAY, device_id="shared"), event("b", 20 * DAY, device_id="shared"))
    m = feed(net, event("c", 40 * DAY))
    assert net.measures("a")["net_component_size"] == 2 and m["net_component_size"] == 1


def test_faded_memory_is_reclaimed_and_numbers_reused():
    net = network()
    feed(net, *(event(f"c{i}", i) for i in range(50)))
    entities = net.stats()["entities"]
    feed(net, event("late", 40 * DAY))
    assert net.stats()["entities"] < 10 and net.stats()["links"] < 10
    feed(net, *(event(f"n{i}", 40 * DAY + i) for i in range(50)))
    assert len(net.graph.ent_value) <= entities + 10  # the forgotten entities' numbers were reused


def test_an_event_older_than_the_window_links_nothing():
    net = network()
    feed(net, event("a", 40 * DAY))
    m = feed(net, event("b", 0, device_id="dev-a"))
    assert m["net_device_degree"] == 0 and net.stats()["links"] == len(net.graph.edges[0])


def test_a_future_dated_event_does_not_fade_the_graph():
    net = Network(NetworkConfig())  # the default clock: the least ts of the last 256 events
    feed(net, event("a", 0, device_id="shared"), event("b", 1, device_id="shared"))
    feed(net, event("x", 400 * DAY))  # a sender's clock gone wrong
    m = feed(net, event("c", 2))
    assert net.measures("a")["net_component_size"] == 2 and m["net_device_degree"] == 1


def test_a_hub_joins_nothing():
    net = network(hub_limits={"device": 5})
    for i in range(5):
        m = feed(net, event(f"c{i}", i, device_id="kiosk", ip="61.4.5.6"))
    assert m["net_component_size"] == 5 and m["ring_size"] == 5
    m = feed(net, event("c5", 6, device_id="kiosk", ip="61.4.5.6"))  # the sixth: the device is a hub now
    assert m["net_device_degree"] == 6 and m["net_hub_links"] == 1
    assert m["net_component_size"] == 1 and m["ring_size"] == 0
    assert net.measures("c0")["net_component_size"] == 1 and net.ring_of("c0") is None


def test_a_hub_that_fades_back_under_its_limit_joins_again():
    net = network(hub_limits={"device": 3})
    feed(net, *(event(f"c{i}", i, device_id="kiosk") for i in range(4)))
    assert net.measures("c0")["net_component_size"] == 1
    feed(net, *(event(f"c{i}", 20 * DAY, device_id="kiosk") for i in range(1, 4)))
    feed(net, event("z", 31 * DAY))  # c0's link fades: three customers left, under the limit
    assert net.measures("c1")["net_component_size"] == 3 and net.measures("c0")["net_component_size"] == 1


def test_honest_crowds_on_weak_links_never_merge():
    """A campus NAT IP, one GPS cell and one employer shared by 300 students: no component, no ring."""
    net = network()
    for i in range(300):
        m = feed(net, event(f"s{i}", i, "apply", ip="116.228.7.9", gps={"lat": 31.23, "lon": 121.47},
                            employer="上海交通大学", address="上海市东川路800号"))
    assert m["net_component_size"] == 1 and m["ring_size"] == 0 and net.stats()["rings"] == 0
    assert m["net_ip_degree"] == 300 and m["net_gps_cell_degree"] == 300 and m["net_employer_degree"] == 300
    assert m["net_hub_links"] == 5  # ip, its /24, the cell, the employer, the address: all past their limits


def test_contact_and_payee_roles_are_told_apart():
    net = network()
    feed(net, event("agent", 0, phone="13645313812"))
    m = feed(net, event("a1", 1, "apply", contacts=[{"phone": "13645313812", "relation": "friend"}]))
    assert m["net_contact_phone_degree"] == 2 and m["net_phone_degree"] == 1 and m["net_component_size"] == 2
    rec = record(event("a1", 2, "bind_card"))
    card = rec["card_hash"]
    net.link(rec)
    m = net.link(record(event("a2", 3, "drawdown")) | {"payee_card_hash": card})
    assert m["net_payee_card_degree"] == 2 and m["net_card_degree"] == 0
    assert m["net_component_size"] == 3
