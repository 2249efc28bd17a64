"""Window aggregates: what each `agg` asks the state for, and how it becomes the value.

Owns the table of docs/policy.md ("agg | value | empty window") on the live path. Each agg
is a list of primitive ops (state/base.py) and a finisher `fin(res, cur, t)` that reads
their results, adds the current event when `include_current` is set and it counts
(`cur` is then its payload tuple, else None) and gives the variable's value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tianwang.state.base import COUNT, DISTINCT, FIRST_TS, LAST, LAST_TS, MAX, MIN, NNUM, SUM

Finisher = Callable[[list, tuple | None, int], Any]

# agg → the primitive ops it reads (column -1: the agg reads no column)
OPS: dict[str, tuple[int, ...]] = {
    "count": (COUNT,),
    "sum": (SUM,),
    "avg": (SUM, NNUM),
    "min": (MIN,),
    "max": (MAX,),
    "distinct": (DISTINCT,),
    "first_seen": (FIRST_TS,),
    "last_seen": (LAST_TS,),
    "last": (LAST,),
    "ratio": (SUM, COUNT),  # SUM of the 0/1 match column
}
_SCALARS = (str, int, float, bool)


def _num(v: Any) -> bool:
    return type(v) is int or type(v) is float


def finisher(agg: str, at: list[int], col: int, include_current: bool) -> Finisher:
    """`at`: where each of OPS[agg] sits in the stream's result list; `col`: the payload column."""
    if include_current:
        return _WITH_CURRENT[agg](*at, col)
    return _WINDOW_ONLY[agg](*at)


def _count(i): return lambda res, cur, t: res[i]
def _sum(i): return lambda res, cur, t: res[i]
def _avg(i, j): return lambda res, cur, t: res[i] / res[j] if res[j] else None
def _pick(i): return lambda res, cur, t: res[i]
def _distinct(i): return lambda res, cur, t: len(res[i])
def _ratio(i, j): return lambda res, cur, t: res[i] / res[j] if res[j] else None


def _since(i):
    return lambda res, cur, t: None if res[i] is None else (t - res[i]) / 1000


_WINDOW_ONLY = {
    "count": _count, "sum": _sum, "avg": _avg, "min": _pick, "max": _pick, "distinct": _distinct,
    "first_seen": _since, "last_seen": _since, "last": _pick, "ratio": _ratio,
}


def _count_c(i, c):
    return lambda res, cur, t: res[i] + (cur is not None)


def _sum_c(i, c):
    def fin(res, cur, t):
        if cur is not None and _num(cur[c]):
            return res[i] + cur[c]
        return res[i]
    return fin


def _avg_c(i, j, c):
    def fin(res, cur, t):
        total, n = res[i], res[j]
        if cur is not None and _num(cur[c]):
            total, n = total + cur[c], n + 1
        return total / n if n else None
    return fin


def _extreme_c(pick):
    def make(i, c):
        def fin(res, cur, t):
            v = res[i]
            if cur is None or not _num(cur[c]):
                return v
            return cur[c] if v is None else pick(v, cur[c])
        return fin
    return make


def _distinct_c(i, c):
    def fin(res, cur, t):
        seen = res[i]
        if cur is not None and type(cur[c]) in _SCALARS and cur[c] not in seen:
            return len(seen) + 1
        return len(seen)
    return fin


def _first_seen_c(i, c):
    # The current event is at t, so it is the earliest only when the window is empty.
    return lambda res, cur, t: (t - res[i]) / 1000 if res[i] is not None else (0.0 if cur is not None else None)


def _last_seen_c(i, c):
    return lambda res, cur, t: 0.0 if cur is not None else (None if res[i] is None else (t - res[i]) / 1000)


def _last_c(i, c):
    # The current event is the latest: nothing accepted earlier has a later ts inside (t - W, t].
    return lambda res, cur, t: cur[c] if cur is not None and cur[c] is not None else res[i]


def _ratio_c(i, j, c):
    def fin(res, cur, t):
        hits, n = res[i], res[j]
        if cur is not None:
            hits, n = hits + cur[c], n + 1
        return hits / n if n else None
    return fin


_WITH_CURRENT = {
    "count": _count_c, "sum": _sum_c, "avg": _avg_c, "min": _extreme_c(min), "max": _extreme_c(max),
    "distinct": _distinct_c, "first_seen": _first_seen_c, "last_seen": _last_seen_c, "last": _last_c,
    "ratio": _ratio_c,
}
