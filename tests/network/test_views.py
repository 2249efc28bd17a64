"""The investigator's views: JSON-ready, ordered, capped."""

from __future__ import annotations

import orjson

from tests.network.helpers import event, feed, network
from tianwang.network.views import neighbourhood, ring_detail, rings_by_risk


def _net():
    net = network()
    feed(net, *(event(f"f{i}", i, "apply", device_id="farm", ip="116.228.7.9",
                      contacts=[{"phone": "13645313812", "relation": "friend"}]) for i in range(6)))
    feed(net, *(event(f"s{i}", 100 + i, device_id="small-farm", gps={"lat": 30.6, "lon": 104.1}) for i in range(4)))
    return net


def test_ring_detail_has_members_shared_entities_and_timeline():
    net = _net()
    d = ring_detail(net, net.ring_of("f0"))
    orjson.dumps(d)
    assert d["size"] == 6 and [m["customer_id"] for m in d["members"]] == [f"f{i}" for i in range(6)]
    kinds = {s["kind"]: s for s in d["shared"]}
    assert kinds["device"]["value"] == "farm" and len(kinds["device"]["members"]) == 6
    assert set(kinds) >= {"device", "phone", "ip", "ip24"}
    assert d["timeline"][0]["what"] == "formed" and [t["what"] for t in d["timeline"]].count("joined") == 6
    assert d["profile"]["max_customers_per_device"] == 6 and 0 < d["profile"]["risk"] <= 1
    assert ring_detail(net, "R999999") is None and ring_detail(net, "nonsense") is None


def test_rings_are_listed_riskiest_first():
    net = _net()
    rows = rings_by_risk(net)
    assert [r["id"] for r in rows] == [net.ring_of("f0"), net.ring_of("s0")]
    assert rows[0]["risk"] >= rows[1]["risk"]
    net.mark_fraud("s0")
    net.mark_fraud("s1")
    assert rings_by_risk(net)[0]["id"] == net.ring_of("s0")
    assert len(rings_by_risk(net, limit=1)) == 1


def test_the_neighbourhood_is_json_ready_and_capped():
    net = _net()
    n = neighbourhood(net, "f0", hops=2)
    orjson.dumps(n)
    ids = {node["id"] for node in n["nodes"]}
    assert "c:f0" in ids and "c:f5" in ids and "e:device:farm" in ids and not n["truncated"]
    assert all(e["source"] in ids and e["target"] in ids for e in n["edges"])
    assert {e["role"] for e in n["edges"]} >= {"own", "contact"}
    small = neighbourhood(net, "f0", hops=2, max_nodes=5)
    assert len(small["nodes"]) == 5 and small["truncated"]
    assert neighbourhood(net, "nobody")["nodes"] == []


def test_hubs_are_shown_but_not_walked_through():
    net = network(hub_limits={"ip": 3, "ip24": 3})
    feed(net, *(event(f"c{i}", i, ip="116.228.7.9") for i in range(5)))
    n = neighbourhood(net, "c0", hops=2)
    hub = next(node for node in n["nodes"] if node["id"] == "e:ip:116.228.7.9")
    assert hub["hub"] and hub["degree"] == 5
    assert [node["id"] for node in n["nodes"] if node["type"] == "customer"] == ["c:c0"]
