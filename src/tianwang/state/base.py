"""The online window state: what any backend (memory, Redis) must answer.

The state keeps *series*: per (tenant, stream id, key tuple) the entries (ts, token, payload)
of the events a stream accepted, in time order. A stream id names a canonical definition
(which events, keyed by what, carrying which payload columns) chosen by the variables
compiler; the state knows nothing of variables. It answers window queries over (t - W, t]
with a handful of primitive aggregates, so a backend can compute them where the data is.

Everything crossing this interface is plain data (ints, strings, tuples), so a Redis
implementation can serialise it and batch one event's work into one round trip.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from tianwang.errors import TianwangError

# Primitive aggregates over the entries of (t - W, t]; `col` is a payload column (-1: none).
COUNT = 0  # number of entries
SUM = 1  # sum of the column's numbers (int, float; not bool); exact for ints, math.fsum once a float is in
NNUM = 2  # how many entries carry a number in the column
MIN = 3  # least number, or None
MAX = 4  # greatest number, or None
DISTINCT = 5  # the set of the column's scalar values (str, int, float, bool); read it, do not change it
FIRST_TS = 6  # ts of the earliest entry, or None
LAST_TS = 7  # ts of the latest entry, or None
LAST = 8  # the column's latest value that is not None, or None

EMPTY = {COUNT: 0, SUM: 0, NNUM: 0, MIN: None, MAX: None, DISTINCT: frozenset(), FIRST_TS: None,
         LAST_TS: None, LAST: None}
OP_NAMES = ("count", "sum", "nnum", "min", "max", "distinct", "first_ts", "last_ts", "last")


@dataclass(frozen=True)
class WindowQuery:
    """What one (stream, key) lookup asks: ops of (op, index into windows, column)."""

    windows: tuple[int, ...]  # window lengths in ms
    ops: tuple[tuple[int, int, int], ...]
    # Derived, for backends: the answer over an empty window, the longest window, and whether
    # the ops are just one COUNT per window, in window order (the commonest query).
    empty: tuple[Any, ...] = field(init=False, repr=False, compare=False)
    longest: int = field(init=False, repr=False, compare=False)
    counts_only: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "empty", tuple(EMPTY[op] for op, _, _ in self.ops))
        object.__setattr__(self, "longest", max(self.windows, default=0))
        counts = tuple((COUNT, i, -1) for i in range(len(self.windows)))
        object.__setattr__(self, "counts_only", self.ops == counts)


class Append(NamedTuple):
    stream_id: str
    key: tuple
    payload: tuple
    horizon_ms: int  # the stream's longest window: older entries may be evicted


class Stats(NamedTuple):
    series: int
    entries: int
    approx_bytes: int


class StateError(TianwangError):
    """The online state cannot be read back (a corrupt or missing checkpoint): rebuild from the log."""

    code = "state_unavailable"


class Watermark:
    """The least ts among the last `span` appended events (a monotonic deque: O(1) amortised).

    The event-time clock of a tenant: each backend's eviction and the link network's window read it."""

    __slots__ = ("span", "count", "recent")

    def __init__(self, span: int, count: int = 0, recent: Sequence[tuple[int, int]] = ()):
        self.span, self.count = span, count
        self.recent: deque[tuple[int, int]] = deque(recent)  # (event number, ts), ts increasing

    def add(self, ts: int) -> int:
        recent = self.recent
        while recent and recent[-1][1] >= ts:
            recent.pop()
        recent.append((self.count, ts))
        if recent[0][0] <= self.count - self.span:
            recent.popleft()
        self.count += 1
        return recent[0][1]

    @property
    def ts(self) -> int:
        return self.recent[0][1]


class WindowState(Protocol):
    def query(self, tenant: str, t: int, requests: Sequence[tuple[str, tuple, WindowQuery]], *,
              token: str | None = None) -> list[Sequence[Any]]:
        """For each (stream id, key, query): the ops' values over (t - W, t], in op order, without
        entries of `token` (the event being walked: a shared state may hold what an unfinished
        earlier walk of it appended)."""

    def append(self, tenant: str, ts: int, token: str, items: Sequence[Append]) -> None:
        """Add one event's entry to each series named in `items`."""

    def remove(self, tenant: str, ts: int, token: str, items: Sequence[tuple[str, tuple]]) -> int:
        """Remove the entries `append` added for `token` at `ts`; the number removed."""

    def stream_ids(self) -> set[str]:
        """The streams that hold series."""

    def drop_stream(self, stream_id: str) -> int:
        """Forget a stream no live policy reads; the number of series dropped."""

    def stats(self) -> Stats:
        """Series, entries and approximate memory."""
