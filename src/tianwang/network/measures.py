"""Ring and network measures: the flat `ring_*` / `net_*` values a decision reads for one event.

`MEASURES` names every value and says what it means; `for_customer` computes them all for a
customer at an event's time, after the event's own links are in (so the event that makes a
link already sees it). Counts are 0 and ratios None when the customer is in no ring (the
expression language treats None as unknown: `coalesce(ring_fraud_share, 0) > 0.3`).

`profile` is a ring's shape and its **risk**, a 0–1 ranking score for investigators (rings
listed by risk) and rules: a weighted sum of what sets a farm apart from a household —
size, customers per device, several kinds of shared strong entity, members co-located on
an IP /24 or GPS cell (0.6 together), and members already rejected, blacklisted or confirmed
fraud (0.4, full at half the members: what people decided outweighs any shape). It is a
heuristic for ordering, not a decision: policies should read the underlying measures.
"""

from __future__ import annotations

from typing import Any, Protocol

from tianwang.network.components import Components
from tianwang.network.config import KIND_NAMES, NetworkConfig
from tianwang.network.entities import CARD, DEVICE, GPS_CELL, IP, IP24, OTHER, OWN, PHONE
from tianwang.network.flags import BLACKLISTED, FRAUD, REJECTED
from tianwang.network.graph import LinkGraph
from tianwang.network.rings import Ring, Rings

HOUR_MS = 3_600_000


class NetworkState(Protocol):
    """What the measures read of a network (`Network`, live.py), so this module need not import live.py."""

    config: NetworkConfig
    graph: LinkGraph
    components: Components
    rings: Rings
    flags: bytearray  # customer → flag bits (flags.py)
    blacklisted: set[int]
    last_apply: dict[int, int]


DEGREE_NAMES = ("device", "phone", "contact_phone", "id_number", "card", "payee_card", "email", "ip", "ip24",
                "gps_cell", "employer", "address")

MEASURES: dict[str, str] = {
    "ring_id": "the customer's ring (e.g. R000042), None when in no ring",
    "ring_size": "members of the ring (0: in no ring)",
    "ring_risk": "the ring's risk score, 0-1 (see network/measures.py); 0 when in no ring",
    "ring_age_hours": "hours since the ring was first seen",
    "ring_joined_24h": "members who joined the ring in the last 24 hours (growth)",
    "ring_applied_1h": "members whose latest credit application (scene apply) is in the last hour",
    "ring_applied_24h": "members whose latest credit application is in the last 24 hours",
    "ring_devices_per_member": "distinct devices the members use, per member",
    "ring_customers_per_device": "members per device, averaged over the ring's devices",
    "ring_max_customers_per_device": "members on the ring's busiest device",
    "ring_shared_kinds": "kinds of strong entity (device, phone, id number, card, email) shared by two members or more",
    "ring_rejected_share": "share of members with a rejected decision (mark)",
    "ring_blacklisted_share": "share of members blacklisted (mark_blacklisted)",
    "ring_fraud_share": "share of members confirmed fraud by an investigator (mark_fraud)",
    "net_component_size": "customers connected to this one through strong non-hub links, itself included",
    "net_hops_to_blacklisted": "customer hops to the nearest blacklisted customer through strong links (0: itself), "
                               "None when none within the hop limit (4)",
    "net_hub_links": "this customer's live links to hub entities (an entity shared beyond its kind's limit)",
    **{f"net_{k}_degree": f"live customers on this customer's busiest {k.replace('_', ' ')}, itself included "
                          f"(0: none)" for k in DEGREE_NAMES},
}

_NO_RING: dict[str, Any] = {
    "ring_id": None, "ring_size": 0, "ring_risk": 0.0, "ring_age_hours": None, "ring_joined_24h": 0,
    "ring_applied_1h": 0, "ring_applied_24h": 0, "ring_devices_per_member": None, "ring_customers_per_device": None,
    "ring_max_customers_per_device": 0, "ring_shared_kinds": 0, "ring_rejected_share": None,
    "ring_blacklisted_share": None, "ring_fraud_share": None,
}
# degree name by kind code, for the own role and for the other (contact / payee) role
_OWN_NAME = [f"net_{k}_degree" for k in KIND_NAMES]
_OTHER_NAME = list(_OWN_NAME)
_OTHER_NAME[PHONE], _OTHER_NAME[CARD] = "net_contact_phone_degree", "net_payee_card_degree"
_ZERO_DEGREES = {f"net_{k}_degree": 0 for k in DEGREE_NAMES}


def unknown_customer() -> dict[str, Any]:
    """The measures of a customer the network has never linked."""
    return {**_NO_RING, "net_component_size": 1, "net_hops_to_blacklisted": None, "net_hub_links": 0, **_ZERO_DEGREES}


def profile(net: NetworkState, ring: Ring) -> dict[str, Any]:
    """The ring's shape (devices, sharing, co-location), flagged members and risk."""
    g = net.graph
    members = ring.members
    counts: dict[int, int] = {}
    for c in members:
        for e in g.edges[c] or ():
            counts[e] = counts.get(e, 0) + 1
    kinds, strong, limits = g.ent_kind, g.strong, g.limits
    devices = [n for e, n in counts.items() if kinds[e] == DEVICE]
    shared_kinds = {kinds[e] for e, n in counts.items() if n >= 2 and strong[kinds[e]]}
    places = {e for e, n in counts.items() if n >= 2 and kinds[e] in (IP, IP24, GPS_CELL)
              and g.degree(e) <= limits[kinds[e]]}
    colocated = sum(1 for c in members if places and not places.isdisjoint(g.edges[c] or ()))
    flags = net.flags
    size = len(members)
    rejected = sum(1 for c in members if flags[c] & REJECTED)
    blacklisted = sum(1 for c in members if flags[c] & BLACKLISTED)
    fraud = sum(1 for c in members if flags[c] & FRAUD)
    per_device = size / len(devices) if devices else 0.0
    flagged = sum(1 for c in members if flags[c]) / size
    risk = (0.20 * min(1.0, (size - 3) / 12)  # shape: at most 0.6
            + 0.20 * min(1.0, max(0.0, per_device - 1) / 4)
            + 0.10 * min(1.0, max(0, len(shared_kinds) - 1) / 2)
            + 0.10 * colocated / size
            + 0.40 * min(1.0, 2 * flagged))  # what people decided: half the members flagged outweighs any shape
    return {
        "size": size,
        "devices": len(devices),
        "devices_per_member": len(devices) / size,
        "customers_per_device": sum(devices) / len(devices) if devices else None,
        "max_customers_per_device": max(devices, default=0),
        "shared_kinds": len(shared_kinds),
        "colocated_share": colocated / size,
        "rejected_share": rejected / size,
        "blacklisted_share": blacklisted / size,
        "fraud_share": fraud / size,
        "risk": round(risk, 4),
    }


def degrees(net: NetworkState, c: int) -> tuple[dict[str, int], int]:
    """(net_<kind>_degree for each kind, links to hubs) of customer `c`."""
    g = net.graph
    out = dict(_ZERO_DEGREES)
    hubs = 0
    members, kinds, limits = g.members, g.ent_kind, g.limits
    for e, v in (g.edges[c] or {}).items():
        m = members[e]
        deg = 1 if m.__class__ is int else len(m)
        kind = kinds[e]
        if deg > limits[kind]:
            hubs += 1
        if v & OWN:
            name = _OWN_NAME[kind]
            if deg > out[name]:
                out[name] = deg
        if v & OTHER:
            name = _OTHER_NAME[kind]
            if deg > out[name]:
                out[name] = deg
    return out, hubs


def hops_to_blacklisted(net: NetworkState, c: int) -> int | None:
    """Customer hops from `c` to the nearest blacklisted customer over strong links, up to the limit."""
    black = net.blacklisted
    if not black:
        return None
    if c in black:
        return 0
    comp = net.components.members(c)
    if len(comp) < 2 or (black.isdisjoint(comp) if len(black) < len(comp) else comp.isdisjoint(black)):
        return None
    neighbours = net.graph.strong_neighbours
    seen, frontier = {c}, [c]
    for hop in range(1, net.config.hop_limit + 1):
        nxt = []
        for x in frontier:
            for y in neighbours(x):
                if y not in seen:
                    if y in black:
                        return hop
                    seen.add(y)
                    nxt.append(y)
        if not nxt:
            return None
        frontier = nxt
    return None


def for_customer(net: NetworkState, c: int, ts: int) -> dict[str, Any]:
    """Every measure in MEASURES for customer `c` at `ts` (epoch ms)."""
    r = net.rings.ring_of.get(c)
    if r is None:
        out = dict(_NO_RING)
    else:
        ring = net.rings.rings[r]
        p = profile(net, ring)
        last_apply = net.last_apply
        hour_ago, day_ago = ts - HOUR_MS, ts - 24 * HOUR_MS
        applied_1h = applied_24h = 0
        for m in ring.members:
            t = last_apply.get(m)
            if t is not None and day_ago < t <= ts:
                applied_24h += 1
                if t > hour_ago:
                    applied_1h += 1
        out = {
            "ring_id": ring.name, "ring_size": p["size"], "ring_risk": p["risk"],
            "ring_age_hours": round((ts - ring.first_seen) / HOUR_MS, 3),
            "ring_joined_24h": sum(1 for t in ring.joined.values() if day_ago < t <= ts),
            "ring_applied_1h": applied_1h, "ring_applied_24h": applied_24h,
            "ring_devices_per_member": p["devices_per_member"], "ring_customers_per_device": p["customers_per_device"],
            "ring_max_customers_per_device": p["max_customers_per_device"], "ring_shared_kinds": p["shared_kinds"],
            "ring_rejected_share": p["rejected_share"], "ring_blacklisted_share": p["blacklisted_share"],
            "ring_fraud_share": p["fraud_share"],
        }
    out["net_component_size"] = net.components.size(c)
    out["net_hops_to_blacklisted"] = hops_to_blacklisted(net, c)
    deg, hubs = degrees(net, c)
    out["net_hub_links"] = hubs
    out.update(deg)
    return out
