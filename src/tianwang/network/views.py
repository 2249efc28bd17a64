"""What an investigator sees: a customer's neighbourhood, a ring's detail, the rings by risk.

All JSON-ready (strings, numbers, lists, dicts), in a stable order, and capped: a graph view
asks for a customer's k-hop neighbourhood and gets at most `max_nodes` nodes, with
`truncated` saying whether more were there. Hubs are shown but not walked through — their
crowd is exactly what the view should not drown in. Node ids are `c:<customer id>` and
`e:<kind>:<value>`; entity values are what the record holds (keyed hashes for personal data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tianwang.events import from_ms
from tianwang.network.entities import CARD, OTHER, OWN, PHONE
from tianwang.network.graph import MINUTE_MS
from tianwang.network.measures import BLACKLISTED, FRAUD, REJECTED, profile
from tianwang.network.rings import ring_name, ring_number

if TYPE_CHECKING:
    from tianwang.network.live import Network


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat().replace("+00:00", "Z")


def _flags(bits: int) -> list[str]:
    return [name for bit, name in ((REJECTED, "rejected"), (BLACKLISTED, "blacklisted"), (FRAUD, "fraud")) if bits & bit]


def _role(kind: int, roles: int) -> str:
    if kind == PHONE and roles & OTHER:
        return "own+contact" if roles & OWN else "contact"
    if kind == CARD and roles & OTHER:
        return "own+payee" if roles & OWN else "payee"
    return "own"


def _customer_node(net: Network, c: int) -> dict[str, Any]:
    r = net.rings.ring_of.get(c)
    return {"id": f"c:{net.graph.cust_ids[c]}", "type": "customer", "label": net.graph.cust_ids[c],
            "ring_id": None if r is None else ring_name(r), "flags": _flags(net.flags[c])}


def _entity_node(net: Network, e: int) -> dict[str, Any]:
    g = net.graph
    kind = g.kind_name(e)
    return {"id": f"e:{kind}:{g.ent_value[e]}", "type": kind, "label": g.ent_value[e], "degree": g.degree(e),
            "hub": g.is_hub(e)}


def neighbourhood(net: Network, customer_id: str, *, hops: int = 2, max_nodes: int = 200) -> dict[str, Any]:
    """The customers within `hops` shared entities of `customer_id`, with those entities and links."""
    g = net.graph
    c0 = g.cust_index.get(customer_id)
    if c0 is None:
        return {"center": f"c:{customer_id}", "nodes": [], "edges": [], "truncated": False}
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    truncated = False
    seen_c, seen_e = {c0}, set()
    nodes[f"c:{customer_id}"] = _customer_node(net, c0)
    frontier = [c0]
    for _ in range(hops):
        nxt: list[int] = []
        for c in frontier:
            for e, v in sorted((g.edges[c] or {}).items()):
                enode = _entity_node(net, e)
                if e not in seen_e:
                    if len(nodes) >= max_nodes:
                        truncated = True
                        continue
                    seen_e.add(e)
                    nodes[enode["id"]] = enode
                edges.append({"source": f"c:{g.cust_ids[c]}", "target": enode["id"], "role": _role(g.ent_kind[e], v & 3),
                              "last_seen": _iso((v >> 2) * MINUTE_MS)})
                if enode["hub"]:
                    continue
                for x in g.member_list(e):
                    if x in seen_c:
                        continue
                    if len(nodes) >= max_nodes:
                        truncated = True
                        break
                    seen_c.add(x)
                    nodes[f"c:{g.cust_ids[x]}"] = _customer_node(net, x)
                    nxt.append(x)
        frontier = nxt
    for c in frontier:  # the outer ring of customers: their links to entities already shown
        for e, v in sorted((g.edges[c] or {}).items()):
            if e in seen_e:
                edges.append({"source": f"c:{g.cust_ids[c]}", "target": _entity_node(net, e)["id"],
                              "role": _role(g.ent_kind[e], v & 3), "last_seen": _iso((v >> 2) * MINUTE_MS)})
    return {"center": f"c:{customer_id}", "nodes": list(nodes.values()), "edges": edges, "truncated": truncated}


def ring_detail(net: Network, ring_id: str) -> dict[str, Any] | None:
    """A ring's members, shared entities, timeline and profile; a retired ring says where it went."""
    n = ring_number(ring_id)
    if n is None:
        return None
    ring = net.rings.rings.get(n)
    if ring is None:
        gone = net.rings.retired.get(n)
        if gone is None:
            return None
        at, why, into = gone
        return {"id": ring_id, "retired": {"at": _iso(at), "why": why, "into": ring_name(into) if into else None}}
    g = net.graph
    ids = g.cust_ids
    shared: dict[int, list[int]] = {}
    for c in ring.members:
        for e in g.edges[c] or ():
            shared.setdefault(e, []).append(c)
    shared_list = [
        {"kind": g.kind_name(e), "value": g.ent_value[e], "members": sorted(ids[c] for c in cs),
         "degree": g.degree(e), "hub": g.is_hub(e)}
        for e, cs in shared.items() if len(cs) >= 2
    ]
    shared_list.sort(key=lambda s: (-len(s["members"]), s["kind"], s["value"]))
    return {
        "id": ring.name,
        "size": len(ring.members),
        "first_seen": _iso(ring.first_seen),
        "changed_at": _iso(ring.changed_at),
        "profile": profile(net, ring),
        "members": [{"customer_id": ids[c], "joined_at": _iso(ring.joined[c]) if c in ring.joined else None,
                     "flags": _flags(net.flags[c])} for c in sorted(ring.members, key=lambda c: ids[c])],
        "shared": shared_list,
        "timeline": [{"at": _iso(ts), "what": what, "detail": detail} for ts, what, detail in ring.timeline],
    }


def rings_by_risk(net: Network, *, limit: int = 50) -> list[dict[str, Any]]:
    """The rings, riskiest first (then larger, then older)."""
    rows = []
    for ring in net.rings.rings.values():
        p = profile(net, ring)
        rows.append({"id": ring.name, "size": p["size"], "risk": p["risk"], "first_seen": _iso(ring.first_seen),
                     "changed_at": _iso(ring.changed_at), "devices": p["devices"], "shared_kinds": p["shared_kinds"]})
    rows.sort(key=lambda r: (-r["risk"], -r["size"], r["id"]))
    return rows[:limit]
