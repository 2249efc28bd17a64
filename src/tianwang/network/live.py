"""The live network of one tenant: every event links, the rings move, the measures come back.

`Network.link(record)` is the walk's step 4: it fades links past the window, adds the
record's links, settles the components the event changed, matches their rings again and
returns the `ring_*` / `net_*` measures of the record's customer — all in the one call, so
the decision on this very event sees the links it made. The outcome hooks (`mark`,
`mark_blacklisted`, `mark_fraud`) feed the shares a ring's members were rejected,
blacklisted or confirmed fraud, and the hops to the nearest blacklisted customer.

Deterministic: the same records (and marks) in the same order give the same rings, ids and
measures — what replay, the checkpoint and rebuild-from-the-log rely on.
The views (views.py) and the checkpoint and rebuild (persist.py: `save`, `load`, `relink`) are
functions over a `Network`, not methods: they import this module, never the reverse.
Not thread-safe: the walk calls it under its lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tianwang.network.components import Components
from tianwang.network.config import NetworkConfig
from tianwang.network.entities import linking_entities
from tianwang.network.flags import BLACKLISTED, FRAUD, REJECTED
from tianwang.network.graph import HUB_BORN, MINUTE_MS, LinkGraph
from tianwang.network.measures import for_customer, unknown_customer
from tianwang.network.rings import Rings, ring_number


class Network:
    """Link graph, components and rings of one tenant (see the module docstring)."""

    def __init__(self, config: NetworkConfig | None = None, *, poison: Iterable[str] = ()):
        self.config = config or NetworkConfig()
        self.poison = frozenset(poison)
        self.graph = LinkGraph(self.config)
        self.components = Components(self.graph)
        self.rings = Rings(self.graph, self.components)
        self.flags = bytearray()  # customer → REJECTED | BLACKLISTED | FRAUD bits
        self.blacklisted: set[int] = set()
        self.last_apply: dict[int, int] = {}  # customer → ts of its latest application
        self.last_ts = 0
        self.events = 0

    def _customer(self, cid: str) -> int:
        c = self.graph.customer(cid)
        if c >= len(self.flags):
            self.flags.extend(bytes(c + 1 - len(self.flags)))
        return c

    def link(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add one record's links (a normalised event) and return its customer's measures."""
        ts = record["ts"]
        g, comps = self.graph, self.components
        until = g.tick(ts)
        if until > g.swept:
            cut, unhubbed = g.sweep(until)
            for x in cut:
                comps.cut(x)
            for e in unhubbed:
                comps.unhubbed(e)
        c = self._customer(record["customer_id"])
        comps.of(c)
        minute = ts // MINUTE_MS
        for kind, value, role in linking_entities(record, self.poison):
            other = g.link(c, kind, value, minute, role)
            if other >= 0:
                comps.join(c, other)
            elif other == HUB_BORN:
                comps.hub_born(g.entity(kind, value), c)
        if record.get("scene") == "apply" and ts > self.last_apply.get(c, -1):
            self.last_apply[c] = ts
        changed, loose = comps.settle()
        if changed or loose:
            self.rings.update(changed, loose, ts)
        self.events += 1
        if ts > self.last_ts:
            self.last_ts = ts
        return for_customer(self, c, ts)

    def measures(self, customer_id: str, ts: int | None = None) -> dict[str, Any]:
        """The measures of a customer at `ts` (default: the latest event's), without linking anything."""
        c = self.graph.cust_index.get(customer_id)
        if c is None:
            return unknown_customer()
        self.components.of(c)
        return for_customer(self, c, self.last_ts if ts is None else ts)

    # ----------------------------------------------------------------- outcome hooks

    def mark(self, customer_id: str, outcome: str) -> None:
        """Record a decision's outcome for the customer (a `reject` counts in ring_rejected_share)."""
        if outcome == "reject":
            self.flags[self._customer(customer_id)] |= REJECTED

    def mark_blacklisted(self, customer_id: str, on: bool = True) -> None:
        """The customer is (or is no longer) on a blacklist."""
        c = self._customer(customer_id)
        if on:
            self.flags[c] |= BLACKLISTED
            self.blacklisted.add(c)
        else:
            self.flags[c] &= ~BLACKLISTED & 0xFF
            self.blacklisted.discard(c)

    def mark_fraud(self, customer_id: str, fraud: bool = True) -> None:
        """An investigator's disposition: confirmed fraud (or cleared)."""
        c = self._customer(customer_id)
        if fraud:
            self.flags[c] |= FRAUD
        else:
            self.flags[c] &= ~FRAUD & 0xFF

    # ----------------------------------------------------------------- reading

    def ring_of(self, customer_id: str) -> str | None:
        """The customer's ring id, or None."""
        c = self.graph.cust_index.get(customer_id)
        r = None if c is None else self.rings.ring_of.get(c)
        return None if r is None else self.rings.rings[r].name

    def members_of(self, ring_id: str) -> list[str] | None:
        """The customer ids of one ring (sorted), or None when there is no such ring now."""
        number = ring_number(ring_id)
        ring = None if number is None else self.rings.rings.get(number)
        if ring is None:
            return None
        ids = self.graph.cust_ids
        return sorted(ids[c] for c in ring.members)

    def ring_members(self) -> dict[str, list[str]]:
        """Every ring's id → its members' customer ids (sorted)."""
        ids = self.graph.cust_ids
        return {ring.name: sorted(ids[c] for c in ring.members) for ring in self.rings.rings.values()}

    def stats(self) -> dict[str, int]:
        g = self.graph
        return {
            "events": self.events,
            "customers": len(g.cust_ids),
            "entities": len(g.ent_value) - len(g.free),
            "links": g.link_count,
            "components": len(self.components.comps),
            "rings": len(self.rings.rings),
        }
