"""The held decisions of one tenant, in memory: what the walk and the sweeper act on.

A decision of `review`, `verify` or `delay` on a money scene (apply, drawdown, payment) leaves
its event **held**: an application waits
for a person or a step-up check, a drawdown's payout waits until its `delay_until`. The
`HoldBook` finds a customer's held events at once (a ring's members are re-decided together)
and the delays in the order they end. The `holds` table is the record; this is its index,
loaded from it at start (and again when a commit failed, see Live.apply_reverts).

The book's **clock** is event time: the latest `occurred_at` the tenant sent, moving on at
wall speed while the tenant is quiet (`now`). No client can push it ahead: live, an event
moves it at most to the server's wall clock (`bound`), so an event dated tomorrow (or 2099)
releases nothing early, and the anonymous beacons of codeless collection never move it at
all. A backtest or a replay, which never waits, releases delays by event time alone (no
bound), so offline still equals online for every event not dated in the future.

In server mode every replica keeps the book: each change is told to the book's `journal`
(ingest/changes.py sends it to the other replicas, which make the same change).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

HELD_OUTCOMES = frozenset({"review", "verify", "delay"})
# The money scenes, where a wait is a pending application, a held payout or a held purchase.
# Elsewhere (login, bind_card …) a review or verify is a check the client answers at once.
HELD_SCENES = frozenset({"apply", "drawdown", "payment"})


@dataclass(slots=True)
class Hold:
    event_id: str
    customer_id: str
    scene: str
    outcome: str
    ts: int
    until: int | None  # event time (ms) a delay ends; None: waits for a person
    waits: bool = False  # the delay waits for its interventions' result: at its end, a person, not the clock

    def row(self, tenant: str) -> dict[str, Any]:
        return {"tenant": tenant, "event_id": self.event_id, "customer_id": self.customer_id, "scene": self.scene,
                "outcome": self.outcome, "ts": self.ts, "until_ts": self.until, "waits": int(self.waits)}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Hold":
        return cls(row["event_id"], row["customer_id"], row["scene"], row["outcome"], row["ts"], row["until_ts"],
                   bool(row.get("waits")))


class HoldBook:
    """One tenant's held events: by customer, and the delays by the time they end."""

    def __init__(self, holds: Iterable[Hold] = (), *, clock: int = 0, keep_revised: bool = False,
                 bound: Callable[[], int] | None = None):
        """`bound()`: the latest the clock may be (epoch ms: the server's wall clock), or None for
        event time alone (a backtest, a replay)."""
        # A backtest's book keeps the ids of the held events reverse notification rejected (to
        # score them against the ground truth); a server's does not grow with them.
        self.revised: list[str] | None = [] if keep_revised else None
        self.by_event: dict[str, Hold] = {}
        self.by_customer: dict[str, dict[str, Hold]] = {}
        self._ends: list[tuple[int, str]] = []  # heap of (until, event_id); stale entries skipped
        self.alerted: set[tuple[str, str]] = set()  # (ring id, trigger code) already told
        self.bound = bound
        self.clock = clock if bound is None else min(clock, bound())
        self._clock_wall = time.monotonic()
        self.journal: Callable[..., None] | None = None  # told (op, *args) of each change, server mode
        for hold in holds:
            self.add(hold)

    def __len__(self) -> int:
        return len(self.by_event)

    def add(self, hold: Hold) -> None:
        if self.journal is not None:
            self.journal("hold.add", hold.event_id, hold.customer_id, hold.scene, hold.outcome, hold.ts, hold.until,
                         hold.waits)
        self.by_event[hold.event_id] = hold
        self.by_customer.setdefault(hold.customer_id, {})[hold.event_id] = hold
        if hold.until is not None:
            heapq.heappush(self._ends, (hold.until, hold.event_id))

    def remove(self, event_id: str) -> Hold | None:
        hold = self.by_event.pop(event_id, None)
        if hold is not None:
            if self.journal is not None:
                self.journal("hold.end", event_id)
            mine = self.by_customer[hold.customer_id]
            del mine[event_id]
            if not mine:
                del self.by_customer[hold.customer_id]
        return hold

    def alert(self, ring_id: str, code: str) -> None:
        """The ring was told of for this trigger (once)."""
        if self.journal is not None:
            self.journal("alert", ring_id, code)
        self.alerted.add((ring_id, code))

    def of(self, customer_id: str) -> list[Hold]:
        """The customer's held events, oldest first."""
        mine = self.by_customer.get(customer_id)
        return sorted(mine.values(), key=lambda h: (h.ts, h.event_id)) if mine else []

    def tick(self, ts: int) -> int:
        """An event of this time arrived: the clock moves on to it (never back, and never past
        `bound`). The new clock."""
        if self.bound is not None and ts > self.clock:
            ts = min(ts, self.bound())
        if ts > self.clock:
            self.clock = ts
            self._clock_wall = time.monotonic()
        return self.clock

    def now(self) -> int:
        """The clock, moved on by the wall time since the latest event (the sweeper's time)."""
        return self.clock + int((time.monotonic() - self._clock_wall) * 1000)

    def next_end(self) -> int | None:
        """When the earliest delay still held ends, or None."""
        ends = self._ends
        while ends and ends[0][1] not in self.by_event:
            heapq.heappop(ends)
        return ends[0][0] if ends else None

    def ended(self, now: int) -> list[Hold]:
        """Take out and return the delays that end at or before `now`, in the order they end."""
        out, ends = [], self._ends
        while ends and ends[0][0] <= now:
            until, event_id = heapq.heappop(ends)
            hold = self.by_event.get(event_id)
            if hold is not None and hold.until == until:
                self.remove(event_id)
                out.append(hold)
        return out
