"""One time-sorted series of entries and its window queries, in process memory.

Owns the layout the memory backend keeps per (tenant, stream, key): an array of ts, and one
flat list of the entries' tokens and payloads, entry after entry (`rows[i * stride]` is entry
i's token, `rows[i * stride + 1 + c]` its column c), kept sorted by ts (equal ts in arrival
order). One list instead of a list per column and one for the tokens: a month of window state
is millions of series, most of them a handful of entries long, and those lists held two fifths
of its memory (one flat list: a sixth). A column is read as a strided slice, in C.
Counts are a bisection per window (one more when the query is older than the last entry);
sums use prefix sums built on the first sum query of a column and extended on every append
(appends at the end are the common case; an out-of-order insert rebuilds the prefix tail);
min, max, distinct and last scan the window's slice, in C where the column holds only plain
values.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from math import fsum
from types import MappingProxyType
from typing import Any

from tianwang.state.base import COUNT, DISTINCT, EMPTY, FIRST_TS, LAST, LAST_TS, MAX, MIN, NNUM, SUM, WindowQuery

# Per-column flags: what kinds of value the column has held since the last eviction, so a
# query filters a window's values in Python only when it must. A series keeps them in one
# int, four bits per column (column c at bit 4c).
FLOAT = 1  # a float: window sums are summed with math.fsum instead of (int) prefix sums
NONE = 2  # None (the event lacked the field)
TEXT = 4  # a str or bool: not a number, but a distinct value
OTHER = 8  # anything else (a list …): neither a number nor a distinct value
NONNUM = NONE | TEXT | OTHER

_SCALARS = (str, int, float, bool)
_TYPE_FLAGS = {int: 0, float: FLOAT, type(None): NONE, str: TEXT, bool: TEXT}  # _flag by type; else OTHER
_NONE_YET: Mapping[int, list[int]] = MappingProxyType({})


def _flag(v: Any) -> int:
    return _TYPE_FLAGS.get(type(v), OTHER)


def _number(v: Any) -> bool:
    return type(v) is int or type(v) is float


def _payload_flags(payload: Sequence[Any]) -> int:
    f = 0
    for c, v in enumerate(payload):
        if type(v) is not int:
            f |= _TYPE_FLAGS.get(type(v), OTHER) << (c << 2)
    return f


class Series:
    __slots__ = ("ts", "rows", "stride", "flags", "horizon", "sums", "nums", "check_at")

    def __init__(self, width: int, horizon: int):
        self.ts = array("q")  # contiguous: a bisection touches no scattered int objects
        self.rows: list[Any] = []  # token, column 0 … column width-1, of each entry in ts order
        self.stride = width + 1
        self.flags = 0
        self.horizon = horizon
        # column → prefix sums of its ints / prefix counts of its numbers (len n + 1); most
        # series never see a sum query, so they share one empty mapping until they do
        self.sums: Mapping[int, list[int]] = _NONE_YET
        self.nums: Mapping[int, list[int]] = _NONE_YET
        self.check_at = 64  # length at which to look for entries to evict next

    @classmethod
    def first(cls, ts: int, token: str, payload: tuple, horizon: int) -> Series:
        """A new series holding one entry: what most appends to a key not seen in a while make."""
        s = cls.__new__(cls)
        s.ts = array("q", (ts,))
        s.rows = [token, *payload]
        s.stride = len(payload) + 1
        s.flags = _payload_flags(payload) if payload else 0
        s.horizon = horizon
        s.sums = s.nums = _NONE_YET
        s.check_at = 64
        return s

    @classmethod
    def restore(cls, ts: list[int], tokens: list[str], cols: list[list[Any]], horizon: int) -> Series:
        """A series from the lists a checkpoint holds."""
        if len(tokens) != len(ts) or any(len(col) != len(ts) for col in cols):
            raise ValueError("series lists of different lengths")
        s = cls(len(cols), horizon)
        s.ts = array("q", ts)
        s.rows = [v for entry in zip(tokens, *cols) for v in entry]
        s.flags = s._column_flags()
        s.check_at = max(64, 2 * len(ts))
        return s

    def lists(self) -> tuple[list[int], list[str], list[list[Any]]]:
        """(ts, tokens, one list per column): the plain lists a checkpoint holds."""
        rows, k = self.rows, self.stride
        return self.ts.tolist(), rows[::k], [rows[1 + c::k] for c in range(k - 1)]

    def column(self, c: int, lo: int = 0, hi: int | None = None) -> list[Any]:
        """The values of column c of entries lo … hi-1."""
        k = self.stride
        return self.rows[lo * k + 1 + c:(len(self.ts) if hi is None else hi) * k + 1 + c:k]

    def append(self, ts: int, token: str, payload: tuple) -> None:
        times = self.ts
        if not times or ts >= times[-1]:
            times.append(ts)
            rows = self.rows
            rows.append(token)
            if payload:
                rows += payload
                f = 0
                for c, v in enumerate(payload):
                    if type(v) is not int:
                        f |= _TYPE_FLAGS.get(type(v), OTHER) << (c << 2)
                if f:
                    self.flags |= f
                if self.sums:
                    for c, p in self.sums.items():
                        v = payload[c]
                        p.append(p[-1] + v if type(v) is int else p[-1])
                if self.nums:
                    for c, p in self.nums.items():
                        p.append(p[-1] + _number(payload[c]))
            return
        i = bisect_right(times, ts)  # after equal ts: they were accepted earlier
        times.insert(i, ts)
        at = i * self.stride
        self.rows[at:at] = (token, *payload)
        self.flags |= _payload_flags(payload)
        self._rebuild_prefixes(i)

    def remove(self, ts: int, token: str) -> bool:
        lo, hi = bisect_left(self.ts, ts), bisect_right(self.ts, ts)
        k = self.stride
        for i in range(lo, hi):
            if self.rows[i * k] == token:
                del self.ts[i], self.rows[i * k:(i + 1) * k]
                self._rebuild_prefixes(i)
                return True
        return False

    def evict(self, before: int) -> int:
        """Drop entries with ts <= `before`; recount the flags of what is left."""
        cut = bisect_right(self.ts, before)
        if cut:
            del self.ts[:cut], self.rows[:cut * self.stride]
            for p in (*self.sums.values(), *self.nums.values()):
                del p[:cut]  # prefix sums stay absolute: only differences are read
            self.flags = self._column_flags()
        self.check_at = max(64, 2 * len(self.ts))
        return cut

    def _column_flags(self) -> int:
        rows, k = self.rows, self.stride
        return sum(_flags(rows[1 + c::k]) << (c << 2) for c in range(k - 1))

    def _rebuild_prefixes(self, i: int) -> None:
        for c, p in self.sums.items():
            del p[i + 1:]
            acc = p[i]
            for v in self.column(c, i):
                if type(v) is int:
                    acc += v
                p.append(acc)
        for c, p in self.nums.items():
            del p[i + 1:]
            acc = p[i]
            for v in self.column(c, i):
                acc += _number(v)
                p.append(acc)

    def _prefix(self, c: int, numbers: bool) -> list[int]:
        table = self.nums if numbers else self.sums
        p = table.get(c)
        if p is None:
            if table is _NONE_YET:
                table = {}
                if numbers:
                    self.nums = table
                else:
                    self.sums = table
            p = table[c] = [0]
            acc = 0
            for v in self.column(c):
                acc += _number(v) if numbers else (v if type(v) is int else 0)
                p.append(acc)
        return p

    def query(self, t: int, q: WindowQuery) -> Sequence[Any]:
        ts = self.ts
        hi = len(ts)
        if hi and ts[hi - 1] > t:  # a late event: entries after it exist (live, the last is mostly older)
            hi = bisect_right(ts, t)
        if not hi or ts[hi - 1] <= t - q.longest:  # nothing in any window: the commonest answer for rare keys
            return q.empty
        windows = q.windows
        if len(windows) == 1:  # most queries: no comprehension (a call) for one bisection
            los = [bisect_right(ts, t - windows[0], 0, hi)]
            if q.counts_only:
                return [hi - los[0]]
        elif q.counts_only:
            return [hi - bisect_right(ts, t - w, 0, hi) for w in windows]
        else:
            los = [bisect_right(ts, t - w, 0, hi) for w in windows]
        rows, k, flags = self.rows, self.stride, self.flags
        out = []
        for op, wi, c in q.ops:
            lo = los[wi]
            if op == COUNT:
                out.append(hi - lo)
            elif lo == hi:
                out.append(EMPTY[op])
            elif op == SUM:
                out.append(self._sum(c, lo, hi))
            elif op == NNUM:
                if flags >> (c << 2) & NONNUM:
                    p = self._prefix(c, True)
                    out.append(p[hi] - p[lo])
                else:
                    out.append(hi - lo)
            elif op == MIN or op == MAX:
                vals = rows[lo * k + 1 + c:hi * k + 1 + c:k]
                f = flags >> (c << 2)
                if f & (TEXT | OTHER):
                    vals = [v for v in vals if type(v) is int or type(v) is float]
                elif f & NONE:
                    vals = [v for v in vals if v is not None]
                out.append(None if not vals else min(vals) if op == MIN else max(vals))
            elif op == DISTINCT:
                vals = rows[lo * k + 1 + c:hi * k + 1 + c:k]
                if flags >> (c << 2) & OTHER:
                    seen = {v for v in vals if type(v) in _SCALARS}
                else:
                    seen = set(vals)
                    seen.discard(None)
                out.append(seen)
            elif op == FIRST_TS:
                out.append(ts[lo])
            elif op == LAST_TS:
                out.append(ts[hi - 1])
            else:  # LAST
                out.append(self._last(c, lo, hi))
        return out

    def _sum(self, c: int, lo: int, hi: int) -> int | float:
        if self.flags >> (c << 2) & FLOAT:
            # Prefix sums of floats lose digits to cancellation; the window's own fsum is exact-rounded.
            vals = [v for v in self.column(c, lo, hi) if type(v) is int or type(v) is float]
            return fsum(vals) if any(type(v) is float for v in vals) else sum(vals)
        p = self._prefix(c, False)
        return p[hi] - p[lo]

    def _last(self, c: int, lo: int, hi: int) -> Any:
        rows, k = self.rows, self.stride
        for i in range((hi - 1) * k + 1 + c, lo * k, -k):  # entries hi-1 down to lo
            if rows[i] is not None:
                return rows[i]
        return None


def _flags(col: list[Any]) -> int:
    f = 0
    for v in col:
        if type(v) is not int:
            f |= _flag(v)
    return f
