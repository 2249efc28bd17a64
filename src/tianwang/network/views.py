"""What an investigator sees: a customer's neighbourhood, a ring's detail, the rings by risk.

All JSON-ready (strings, numbers, lists, dicts), in a stable order, and capped: a graph view
asks for a customer's k-hop neighbourhood and gets at most `max_nodes` nodes, with
`truncated` saying whether more were there. Hubs are shown but not walked through — their
crowd is exactly what the view should not drown in. Node ids are `c:<customer id>` and
`e:<kind>:<value>`; entity values are what the record holds (keyed hashes for personal data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tianwang.timefmt import iso
from tianwang.network.entities import CARD, OTHER, OWN, PHONE
from tianwang.network.flags import BLACKLISTED, FRAUD, REJECTED
from tianwang.network.graph import MINUTE_MS
from tianwang.network.measures import profile
from tianwang.network.rings import ring_name, ring_number

if TYPE_CHECKING:
    from tianwang.network.live import Network




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
                              "last_seen": iso((v >> 2) * MINUTE_MS)})
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
                              "role": _role(g.ent_kind[e], v & 3), "last_seen": iso((v >> 2) * MINUTE_MS)})
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
        return {"id": ring_id, "retired": {"at": iso(at), "why": why, "into": ring_name(into) if into else None}}
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
        "first_seen": iso(ring.first_seen),
        "changed_at": iso(ring.changed_at),
        "profile": profile(net, ring),
        "members": [{"customer_id": ids[c], "joined_at": iso(ring.joined[c]) if c in ring.joined else None,
                     "flags": _flags(net.flags[c])} for c in sorted(ring.members, key=lambda c: ids[c])],
        "shared": shared_list,
        "timeline": [{"at": iso(ts), "what": what, "detail": detail} for ts, what, detail in ring.timeline],
    }


def rings_by_risk(net: Network, *, limit: int = 50) -> list[dict[str, Any]]:
    """The rings, riskiest first (then larger, then older)."""
    rows = []
    for ring in net.rings.rings.values():
        p = profile(net, ring)
        rows.append({"id": ring.name, "size": p["size"], "risk": p["risk"], "first_seen": iso(ring.first_seen),
                     "changed_at": iso(ring.changed_at), "devices": p["devices"], "shared_kinds": p["shared_kinds"]})
    rows.sort(key=lambda r: (-r["risk"], -r["size"], r["id"]))
    return rows[:limit]


HOUR_MS = 3_600_000
REPORT_MEMBERS_MAX = 100  # most customer ids listed per ring and kind; the counts are always whole


def _ring_summary(net: Network, ring: Any, since_ts: int, until_ts: int) -> dict[str, Any]:
    ids = net.graph.cust_ids
    joined = sorted(ids[c] for c, at in ring.joined.items() if since_ts < at <= until_ts)
    last_apply = net.last_apply
    applied = sorted(ids[c] for c in ring.members if since_ts < last_apply.get(c, -1) <= until_ts)
    return {"id": ring.name, "size": len(ring.members), "risk": profile(net, ring)["risk"],
            "first_seen": iso(ring.first_seen), "joined": len(joined), "joined_members": joined[:REPORT_MEMBERS_MAX],
            "applied": len(applied), "applied_members": applied[:REPORT_MEMBERS_MAX]}


def ring_report(net: Network, since_ts: int | None = None, until_ts: int | None = None) -> dict[str, Any]:
    """What the rings did in the period `since_ts < ts <= until_ts` (event time, epoch ms).

    `until_ts` defaults to the network's clock (the latest event time linked), `since_ts` to an
    hour before it; back-to-back periods do not overlap. Listed: the rings **formed** in the
    period, those that **grew** (members joined in it; a ring formed or split off in the period
    is not listed again), those **split** (the parts split off), those **merged** into another
    and those **dissolved**. A live ring shows its id, size, risk, the members who joined in the
    period and the members who applied in it. Read from what the rings keep: a member's join
    time, each ring's first entry and its capped timeline, the retired rings, and each customer's
    latest application — so a member who applied in the period and again after it is not
    counted, and a split older than the timeline's memory may be missing.
    """
    until = net.last_ts if until_ts is None else until_ts
    since = until - HOUR_MS if since_ts is None else since_ts

    def within(ts: int) -> bool:
        return since < ts <= until

    rings = net.rings
    formed, grew = [], []
    parts: dict[int, list[tuple[int, int]]] = {}  # source ring number → (at, part number)
    for r, ring in sorted(rings.rings.items()):
        tl = ring.timeline
        split_off = bool(tl) and tl[0][0] == ring.first_seen and tl[0][1] == "split"
        if within(ring.first_seen):
            if split_off:
                src = ring_number(tl[0][2])
                if src is not None:
                    parts.setdefault(src, []).append((ring.first_seen, r))
                continue
            formed.append(_ring_summary(net, ring, since, until))
            continue
        row = _ring_summary(net, ring, since, until)
        if row["joined"]:
            grew.append(row)
    split_rows = []
    for src, got in sorted(parts.items()):
        live = rings.rings.get(src)
        row = _ring_summary(net, live, since, until) if live is not None else {"id": ring_name(src)}
        row["at"] = iso(min(at for at, _ in got))
        row["parts"] = [_ring_summary(net, rings.rings[p], since, until) for _, p in sorted(got)]
        split_rows.append(row)
    merged, dissolved = [], []
    for r, (at, why, into) in sorted(rings.retired.items()):
        if not within(at):
            continue
        if why == "merged":
            survivor = rings.rings.get(into)
            merged.append({"id": ring_name(r), "at": iso(at), "into": ring_name(into),
                           "into_ring": None if survivor is None else _ring_summary(net, survivor, since, until)})
        else:
            dissolved.append({"id": ring_name(r), "at": iso(at)})
    grew.sort(key=lambda row: (-row["joined"], row["id"]))
    return {
        "period": {"since": iso(since), "until": iso(until)},
        "formed": formed,
        "grew": grew,
        "split": split_rows,
        "merged": merged,
        "dissolved": dissolved,
    }
