"""Rings: which communities are rings, and the identity each ring keeps while it changes.

A **ring** is a group of at least `ring_min_members` customers of one community, held
together by **double ties** — two customers share two strong entities, or one strong entity
and a place (an IP, /24 or GPS cell that is not a hub) — in which one strong entity is shared
by `ring_min_shared` of them, or which has `ring_min_any` members or more. A customer tied to
the others by one entity alone (a recycled phone number, a mistyped or stolen id number) is
an associate, not a member: it shows in the neighbourhood and in the hops measure, and its
household stays out of the ring. config.py says how these were measured.

**Stable ids.** After every change the new rings are matched to the old ones they took
members from: the oldest old ring first, each to the new ring holding most of its members
(then the larger one). So when two rings merge the older id survives, and when a ring splits
its id stays on the part that kept most of its members; an old ring left without a match is
retired (merged into the ring that took most of its members, or dissolved), and an unmatched
new ring gets the next number. Work is local: only rings whose members are in a changed
component are matched again.

Each ring keeps its members, when it was first seen, when each member joined, and a
timeline (formed, joined, left, merged, split), bounded to `timeline_max` entries.
"""

from __future__ import annotations

from tianwang.network.communities import split
from tianwang.network.entities import GPS_CELL, IP, IP24
from tianwang.network.components import Components
from tianwang.network.graph import LinkGraph


PLACES = (IP, IP24, GPS_CELL)


def ring_name(n: int) -> str:
    return f"R{n:06d}"


def ring_number(name: str) -> int | None:
    if len(name) == 7 and name[0] == "R" and name[1:].isascii() and name[1:].isdigit():
        return int(name[1:])
    return None


class Ring:
    __slots__ = ("id", "members", "first_seen", "joined", "timeline", "changed_at")

    def __init__(self, id: int, first_seen: int):
        self.id = id
        self.members: set[int] = set()
        self.first_seen = first_seen
        self.joined: dict[int, int] = {}  # member → ts it joined
        self.timeline: list[tuple[int, str, str]] = []  # (ts, what, detail)
        self.changed_at = first_seen

    @property
    def name(self) -> str:
        return ring_name(self.id)


class Rings:
    """The ring registry over the graph's components (see the module docstring)."""

    def __init__(self, graph: LinkGraph, components: Components):
        self.graph, self.components = graph, components
        self.config = graph.config
        self.rings: dict[int, Ring] = {}
        self.ring_of: dict[int, int] = {}  # customer → ring number
        self.next_id = 1
        self.retired: dict[int, tuple[int, str, int]] = {}  # number → (ts, "merged"/"dissolved", into or 0)
        self.split_at: dict[int, int] = {}  # component → ts of its last Leiden split (large ones only)

    def cores(self, part: set[int]) -> list[set[int]]:
        """The rings inside one community: groups held by double ties in which enough share."""
        cfg = self.config
        if len(part) < cfg.ring_min_members:
            return []
        g = self.graph
        edges, ent_members, kinds, strong, limits = g.edges, g.members, g.ent_kind, g.strong, g.limits
        shared: dict[int, list[int]] = {}  # strong non-hub entity → its members in the part, in order
        for c in sorted(part):
            for e in edges[c] or ():
                kind = kinds[e]
                if strong[kind]:
                    m = ent_members[e]
                    if m.__class__ is set and len(m) <= limits[kind]:
                        shared.setdefault(e, []).append(c)
        ties: dict[tuple[int, int], int] = {}
        for cs in shared.values():
            for i, a in enumerate(cs):
                for b in cs[i + 1:]:
                    ties[a, b] = ties.get((a, b), 0) + 1
        parent: dict[int, int] = {}

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for (a, b), n in ties.items():
            if n >= 2 or self._colocated(a, b):
                parent.setdefault(a, a)
                parent.setdefault(b, b)
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        groups: dict[int, set[int]] = {}
        for c in list(parent):
            groups.setdefault(root(c), set()).add(c)
        out = []
        for grp in groups.values():
            if len(grp) < cfg.ring_min_members:
                continue
            if len(grp) >= cfg.ring_min_any or any(
                    len(cs) >= cfg.ring_min_shared and sum(1 for c in cs if c in grp) >= cfg.ring_min_shared
                    for cs in shared.values()):
                out.append(grp)
        return out

    def _colocated(self, a: int, b: int) -> bool:
        """Whether `a` and `b` share a place: an IP, /24 or GPS cell that is not a hub."""
        g = self.graph
        ea, eb = g.edges[a], g.edges[b]
        if len(ea) > len(eb):
            ea, eb = eb, ea
        kinds, limits = g.ent_kind, g.limits
        for e in ea:
            if e in eb and kinds[e] in PLACES and g.degree(e) <= limits[kinds[e]]:
                return True
        return False

    def _communities(self, k: int, members: set[int], ts: int) -> list[set[int]]:
        cfg = self.config
        if len(members) < cfg.ring_min_members:
            return []
        if len(members) > cfg.split_sync_max:
            last = self.split_at.get(k)
            if last is not None and ts - last < cfg.split_every_ms:
                # too soon to split this one again: its rings keep their members; newcomers wait
                groups: dict[int, set[int]] = {}
                for c in members:
                    r = self.ring_of.get(c)
                    if r is not None:
                        groups.setdefault(r, set()).add(c)
                return list(groups.values())
            self.split_at[k] = ts
        return split(self.graph, members)

    def update(self, changed: set[int], loose: set[int], ts: int) -> None:
        """Match rings again after the components in `changed` moved and `loose` were left alone."""
        comps = self.components.comps
        affected: set[int] = set(loose)
        candidates: list[set[int]] = []
        for k in sorted(changed):
            members = comps.get(k)
            if members is None:
                continue
            affected |= members
            for part in self._communities(k, members, ts):
                candidates.extend(self.cores(part))
        for k in list(self.split_at):
            if k not in comps:
                del self.split_at[k]
        ring_of = self.ring_of
        olds = sorted({ring_of[c] for c in affected if c in ring_of},
                      key=lambda r: (self.rings[r].first_seen, r))
        if not olds and not candidates:
            return
        candidates.sort(key=lambda p: (-len(p), min(p)))
        overlap: dict[int, dict[int, int]] = {}
        for i, part in enumerate(candidates):
            for c in part:
                r = ring_of.get(c)
                if r is not None:
                    o = overlap.setdefault(r, {})
                    o[i] = o.get(i, 0) + 1
        owner: list[int | None] = [None] * len(candidates)
        for r in olds:
            best = None
            for i, n in sorted(overlap.get(r, {}).items()):
                if owner[i] is None and (best is None or (n, len(candidates[i])) > best[0]):
                    best = ((n, len(candidates[i])), i)
            if best is not None:
                owner[best[1]] = r
        for c in affected:
            ring_of.pop(c, None)
        gone = [r for r in olds if r not in owner]
        for i, part in enumerate(candidates):
            r = owner[i]
            if r is None:
                r = self.next_id
                self.next_id += 1
                ring = self.rings[r] = Ring(r, ts)
                owner[i] = r
                src = max(overlap, key=lambda o: (overlap[o].get(i, 0), -o), default=None)
                if src is not None and overlap[src].get(i):
                    self._note(ring, ts, "split", ring_name(src))
                    self._note(self.rings[src], ts, "split", ring.name)
                else:
                    self._note(ring, ts, "formed", "")
            ring = self.rings[r]
            ids = self.graph.cust_ids
            for c in sorted(part - ring.members):
                ring.joined[c] = ts
                self._note(ring, ts, "joined", ids[c])
            for c in sorted(ring.members - part):
                ring.joined.pop(c, None)
                self._note(ring, ts, "left", ids[c])
            if part != ring.members:
                ring.changed_at = ts
            ring.members = part
            for c in part:
                ring_of[c] = r
        for r in gone:
            old = self.rings.pop(r)
            into = max(range(len(candidates)), key=lambda i: (overlap.get(r, {}).get(i, 0), -i), default=None)
            if into is not None and overlap.get(r, {}).get(into):
                target = self.rings[owner[into]]
                self.retired[r] = (ts, "merged", target.id)
                self._note(target, ts, "merged", old.name)
            else:
                self.retired[r] = (ts, "dissolved", 0)

    def _note(self, ring: Ring, ts: int, what: str, detail: str) -> None:
        tl = ring.timeline
        tl.append((ts, what, detail))
        cap = self.config.timeline_max
        if len(tl) > cap:
            del tl[cap // 4]  # keep how it began and what happened lately
