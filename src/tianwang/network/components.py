"""Connected components over joining links, kept up to date on every event.

A join (a new link to a shared, strong, non-hub entity) merges two components: the smaller
one's members are relabelled into the larger (amortised O(log n) per customer, and members
are listed without a union-find walk). Links that go — faded past the window, or an entity
turned hub — can split a component; union-find cannot undo, so such a component is marked
dirty and `settle` recomputes it by a breadth-first walk over its own members' links:
local work, bounded by the component (which hub limits keep small). The part with most
members keeps the component's number. A customer alone has no component (-1).

`settle` returns the components whose members or links changed since the last call, and
the customers who were left alone: what the ring step must look at again.
"""

from __future__ import annotations

from tianwang.network.graph import LinkGraph


class Components:
    """Components of the link graph's customers (see the module docstring)."""

    def __init__(self, graph: LinkGraph):
        self.graph = graph
        self.comp_of: list[int] = []  # customer → component, -1 alone
        self.comps: dict[int, set[int]] = {}
        self.next_id = 0
        self.dirty: set[int] = set()  # customers whose component may have fallen apart
        self.changed: set[int] = set()  # components to look at again
        self.loose: set[int] = set()  # customers left alone since the last settle

    def of(self, c: int) -> int:
        comp_of = self.comp_of
        if c >= len(comp_of):
            comp_of.extend([-1] * (c + 1 - len(comp_of)))
        return comp_of[c]

    def size(self, c: int) -> int:
        k = self.of(c)
        return 1 if k < 0 else len(self.comps[k])

    def members(self, c: int) -> set[int]:
        k = self.of(c)
        return {c} if k < 0 else self.comps[k]

    def join(self, a: int, b: int) -> None:
        """Customers `a` and `b` now share a joining entity."""
        ka, kb = self.of(a), self.of(b)
        comp_of, comps = self.comp_of, self.comps
        if ka >= 0 and ka == kb:
            self.changed.add(ka)  # a new link inside: its communities may move
            return
        if ka < 0 and kb < 0:
            k = self.next_id
            self.next_id += 1
            comps[k] = {a, b}
            comp_of[a] = comp_of[b] = k
            self.changed.add(k)
            return
        if ka < 0 or (kb >= 0 and (len(comps[kb]), -kb) > (len(comps[ka]), -ka)):
            a, b, ka, kb = b, a, kb, ka  # ka: the larger (or the older on a tie)
        keep = comps[ka]
        if kb < 0:
            keep.add(b)
            comp_of[b] = ka
        else:
            gone = comps.pop(kb)
            for x in gone:
                comp_of[x] = ka
            keep |= gone
            self.changed.discard(kb)
        self.changed.add(ka)

    def cut(self, c: int) -> None:
        """`c` lost a joining link: its component may have fallen apart."""
        if self.of(c) >= 0:
            self.dirty.add(c)

    def hub_born(self, e: int, newcomer: int) -> None:
        """Entity `e` became a hub: what it alone held together falls apart."""
        for x in self.graph.member_list(e):
            if x != newcomer:
                self.cut(x)
                return

    def unhubbed(self, e: int) -> None:
        """Entity `e` is under its limit again: its members are joined."""
        ms = self.graph.member_list(e)
        for x in ms[1:]:
            self.join(ms[0], x)

    def settle(self) -> tuple[set[int], set[int]]:
        """Recompute dirty components; return (changed components, customers left alone)."""
        if self.dirty:
            seen_comps = set()
            for c in sorted(self.dirty):
                k = self.comp_of[c]
                if k >= 0 and k not in seen_comps:
                    seen_comps.add(k)
                    self._recompute(k)
            self.dirty.clear()
        changed, loose = self.changed, self.loose
        self.changed, self.loose = set(), set()
        return changed, loose

    def _recompute(self, k: int) -> None:
        members = self.comps[k]
        neighbours = self.graph.strong_neighbours
        parts: list[list[int]] = []
        seen: set[int] = set()
        for start in sorted(members):
            if start in seen:
                continue
            seen.add(start)
            part, frontier = [start], [start]
            while frontier:
                nxt = []
                for x in frontier:
                    for y in neighbours(x):
                        if y not in seen:
                            seen.add(y)
                            part.append(y)
                            nxt.append(y)
                frontier = nxt
            parts.append(part)
        if len(parts) == 1:
            self.changed.add(k)  # whole still, but a link inside went
            return
        parts.sort(key=lambda p: (-len(p), min(p)))
        comp_of = self.comp_of
        self.comps[k] = set(parts[0])
        self.changed.add(k)
        for part in parts[1:]:
            if len(part) == 1:
                comp_of[part[0]] = -1
                self.loose.add(part[0])
                continue
            n = self.next_id
            self.next_id += 1
            self.comps[n] = set(part)
            for x in part:
                comp_of[x] = n
            self.changed.add(n)
        if len(parts[0]) == 1:  # every part alone: the component is no more
            del self.comps[k]
            comp_of[parts[0][0]] = -1
            self.loose.add(parts[0][0])
            self.changed.discard(k)
