"""The link store: customers, entities and the timestamped links between them, fading with time.

Customers and entities are numbered in order of arrival (ints index plain lists, which keeps
a million-customer graph in a few hundred bytes per customer). A link is one entry in its
customer's dict, entity → (minute of its last sighting << 2 | role bits); an entity keeps its
members: one customer as a bare int (nine entities in ten are never shared), a set once two
or more share it.

Fading: a link counts while its last sighting is after (clock − window), at minute
granularity. The clock is the least ts of the last `watermark_events` events, so a
future-dated event cannot fade the graph, and the sweep follows it: every link sits in the
bucket of the minute it was last queued; when the clock passes a bucket the links in it go
— unless seen since, then they move to the bucket of their last sighting. Each live link is
in one bucket (an `array` of packed ints: 8 bytes a link); an entity left with no member is
forgotten and its number reused. A link older than the sweep when it arrives is not made.

Hubs: an entity of a strong kind linking more live customers than its kind's limit joins
nothing (config.py). `link` and `sweep` report what changes the components: a join, a hub
born (its members may fall apart) or unmade (its members join again), a joining link gone.
"""

from __future__ import annotations

from array import array

from tianwang.network.config import KIND_NAMES, STRONG, NetworkConfig
from tianwang.state.base import Watermark  # the same event-time clock as the window state

MINUTE_MS = 60_000
NO_JOIN = -1  # link(): nothing for the components to do
HUB_BORN = -2  # link(): this entity just became a hub: its members' component may fall apart


class LinkGraph:
    """Customers ↔ entities with fading links and hub limits (see the module docstring)."""

    def __init__(self, config: NetworkConfig):
        self.config = config
        self.window_min = -(-config.window_ms // MINUTE_MS)
        self.limits = config.limits()
        self.strong = STRONG
        self.cust_index: dict[str, int] = {}
        self.cust_ids: list[str] = []
        self.edges: list[dict[int, int] | None] = []  # customer → {entity: minute << 2 | roles}
        self.ent_index: list[dict[str, int]] = [{} for _ in KIND_NAMES]  # kind → value → entity
        self.ent_kind = bytearray()
        self.ent_value: list[str | None] = []
        self.members: list[int | set[int] | None] = []  # entity → customer, or set of customers
        self.free: list[int] = []  # numbers of forgotten entities, reused
        self.buckets: dict[int, array] = {}  # minute → packed (customer << 32 | entity)
        self.swept = -1  # links last seen before this minute are gone
        self.clock = Watermark(config.watermark_events)
        self.now_min = -1  # the clock, in minutes
        self.link_count = 0

    # ----------------------------------------------------------------- customers and entities

    def customer(self, cid: str) -> int:
        """The number of customer `cid`, registered on first sight."""
        c = self.cust_index.get(cid)
        if c is None:
            c = self.cust_index[cid] = len(self.cust_ids)
            self.cust_ids.append(cid)
            self.edges.append(None)
        return c

    def entity(self, kind: int, value: str) -> int | None:
        return self.ent_index[kind].get(value)

    def degree(self, e: int) -> int:
        m = self.members[e]
        return 0 if m is None else 1 if m.__class__ is int else len(m)

    def is_hub(self, e: int) -> bool:
        return self.degree(e) > self.limits[self.ent_kind[e]]

    def joins(self, e: int) -> bool:
        """Whether `e` joins its members: a strong kind, shared, not a hub."""
        m = self.members[e]
        return (self.strong[self.ent_kind[e]] and m.__class__ is set
                and len(m) <= self.limits[self.ent_kind[e]])

    def member_list(self, e: int) -> list[int]:
        m = self.members[e]
        return [] if m is None else [m] if m.__class__ is int else sorted(m)

    def _new_entity(self, kind: int, value: str) -> int:
        if self.free:
            e = self.free.pop()
            self.ent_kind[e], self.ent_value[e] = kind, value
        else:
            e = len(self.ent_value)
            self.ent_kind.append(kind)
            self.ent_value.append(value)
            self.members.append(None)
        self.ent_index[kind][value] = e
        return e

    # ----------------------------------------------------------------- the clock and linking

    def tick(self, ts: int) -> int:
        """Advance the clock with an event at `ts`; return the minute links fade before."""
        self.now_min = self.clock.add(ts) // MINUTE_MS
        return self.now_min - self.window_min + 1

    def link(self, c: int, kind: int, value: str, minute: int, role: int) -> int:
        """Link customer `c` to (kind, value) seen at `minute`.

        Returns the member `c` must be joined with, NO_JOIN, or HUB_BORN.
        """
        if minute < self.swept:
            return NO_JOIN  # older than the window already swept: faded on arrival
        e = self.ent_index[kind].get(value)
        if e is None:
            e = self._new_entity(kind, value)
        edges = self.edges[c]
        if edges is None:
            edges = self.edges[c] = {}
        old = edges.get(e)
        if old is not None:
            if minute > old >> 2 or not old & role:
                edges[e] = max(minute, old >> 2) << 2 | (old & 3) | role
            return NO_JOIN
        edges[e] = minute << 2 | role
        self.link_count += 1
        bucket = self.buckets.get(minute)
        if bucket is None:
            bucket = self.buckets[minute] = array("Q")
        bucket.append(c << 32 | e)
        m = self.members[e]
        if m is None:
            self.members[e] = c
            return NO_JOIN
        if m.__class__ is int:
            other = m
            m = self.members[e] = {m, c}
        else:
            other = -1
            m.add(c)
        if not self.strong[kind]:
            return NO_JOIN
        n, limit = len(m), self.limits[kind]
        if n > limit:
            return HUB_BORN if n == limit + 1 else NO_JOIN
        if other < 0:
            for other in m:  # any member but c: they are all in one component
                if other != c:
                    break
        return other

    def sweep(self, until: int) -> tuple[list[int], list[int]]:
        """Fade every link last seen before minute `until`.

        Returns (customers who lost a joining link, entities that stopped being hubs).
        """
        cut: list[int] = []
        unhubbed: list[int] = []
        if until <= self.swept:
            return cut, unhubbed
        if self.swept < 0:
            self.swept = min(self.buckets, default=until)
        buckets = self.buckets
        if until - self.swept > 4 * len(buckets):  # a long gap in time: visit the buckets, not the minutes
            due = sorted(m for m in buckets if m < until)
        else:
            due = range(self.swept, until)
        for minute in due:
            bucket = buckets.pop(minute, None)
            if bucket is None:
                continue
            for packed in bucket:
                c, e = packed >> 32, packed & 0xFFFFFFFF
                edges = self.edges[c]
                v = None if edges is None else edges.get(e)
                if v is None:
                    continue
                last = v >> 2
                if last >= until:
                    later = buckets.get(last)
                    if later is None:
                        later = buckets[last] = array("Q")
                    later.append(packed)
                    continue
                self._unlink(c, e, edges, cut, unhubbed)
        self.swept = until
        return cut, unhubbed

    def _unlink(self, c: int, e: int, edges: dict[int, int], cut: list[int], unhubbed: list[int]) -> None:
        del edges[e]
        self.link_count -= 1
        if not edges:
            self.edges[c] = None
        m = self.members[e]
        if m.__class__ is int:
            self.members[e] = None
            del self.ent_index[self.ent_kind[e]][self.ent_value[e]]
            self.ent_value[e] = None
            self.free.append(e)
            return
        kind = self.ent_kind[e]
        before = len(m)
        m.discard(c)
        if len(m) == 1:
            self.members[e] = next(iter(m))
        if not self.strong[kind]:
            return
        limit = self.limits[kind]
        if before <= limit:
            cut.append(c)  # a joining link went: c's component may fall apart
        elif before - 1 <= limit and before - 1 >= 2:
            unhubbed.append(e)  # back under its limit: it joins its members again

    def strong_neighbours(self, c: int) -> list[int]:
        """Customers sharing a joining (strong, non-hub) entity with `c`."""
        edges = self.edges[c]
        if not edges:
            return []
        out = []
        members, kinds, strong, limits = self.members, self.ent_kind, self.strong, self.limits
        for e in edges:
            m = members[e]
            if m.__class__ is set and strong[kinds[e]] and len(m) <= limits[kinds[e]]:
                out.extend(m)
        return out

    def kind_name(self, e: int) -> str:
        return KIND_NAMES[self.ent_kind[e]]
