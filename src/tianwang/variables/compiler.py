"""Compile the variables a strategy needs into a `Plan`: step 5 of the walk, run plain.

Owns the plan: which fields to read, which (stream, key) series to query and what to ask
each (one `WindowQuery` per stream, all its variables' windows and ops deduplicated), which
lists to check, and the expressions to evaluate in dependency order. Compiling does all the
lookups once; `Plan.compute` is loops over prepared tuples, one state call per event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from tianwang.decision.expr import NULL_ERRORS
from tianwang.state.base import COUNT, FIRST_TS, LAST_TS, WindowQuery
from tianwang.variables.aggregates import OPS, Finisher, finisher
from tianwang.variables.definitions import ExprVar, FieldVar, ListVar, NetworkVar, WindowVar
from tianwang.variables.streams import Stream, StreamSet, column_of, field_getter, key_getter
from tianwang.variables.varset import VariableSet


@dataclass(frozen=True)
class _Read:
    """One (stream, key) lookup per event and the variables it serves."""

    stream: Stream
    key_at: int  # index of the stream's key among the plan's distinct keys
    query: WindowQuery
    picks: tuple[str, ...]  # variables whose value is one result as it is (count, sum, min …)
    pick: Callable[[Any], Any] | None  # itemgetter of their results: one C call for all of them
    finals: tuple[tuple[str, Finisher], ...]  # the others
    current: bool  # some variable counts the current event


class Plan:
    """The compiled variables of one strategy (see compile_plan)."""

    def __init__(self, names: list[str], fields: list, reads: list[_Read], lists: list, exprs: list,
                 keys: list[Callable[[dict], tuple | None]], network: list | None = None):
        self.names = tuple(names)
        self.streams = tuple(r.stream for r in reads)
        self._fields = tuple(fields)
        self._reads = tuple(reads)
        self._keys = tuple(keys)
        # The hot loops read plain tuples, not dataclass attributes. Reads are sorted by key, so
        # per key: the (stream id, query) pairs to ask, and per read what turns a result into values.
        self._asks = tuple(tuple((r.stream.id, r.query) for r in reads if r.key_at == i) for i in range(len(keys)))
        self._serve = tuple(tuple((r.query.empty, _empty_values(r), r.picks, r.pick, r.finals, _current_of(r))
                                  for r in reads if r.key_at == i) for i in range(len(keys)))
        # (name, list type, first field, its getter, the other (field, getter) pairs): most list
        # variables check one field, so the common case is one call and no generator.
        self._lists = tuple((name, lt, *entities[0], entities[1:]) for name, lt, entities in lists)
        self._exprs = tuple((name, expr.fn) for name, expr in exprs)
        self._network = tuple(network or ())  # (name, measure)

    @property
    def reads_network(self) -> bool:
        """Whether some variable of the plan is a ring / network measure."""
        return bool(self._network)

    def compute(self, event: dict, *, tenant: str, state: Any, lists: Any = None,
                network: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every needed variable's value for `event`, from the state as it is before the event;
        `network`: the measures `Network.link` gave this event (what `network` variables read)."""
        values: dict[str, Any] = {}
        for name, get, default in self._fields:
            v = get(event)
            values[name] = default if v is None else v
        if self._network:
            if network is None:
                raise LookupError("no network measures for this event (network variables need them)")
            for name, measure in self._network:
                values[name] = network[measure]
        if self._keys:
            self._windows(event, tenant, state, values)
        if self._lists:
            ts = event["ts"]
            contains = _no_lists if lists is None else lists.contains
            for name, list_type, field, get, more in self._lists:
                v = get(event)
                if v is not None and contains(tenant, list_type, field, v, ts):
                    values[name] = True
                else:
                    values[name] = bool(more) and any(
                        (v := g(event)) is not None and contains(tenant, list_type, f, v, ts) for f, g in more)
        for name, fn in self._exprs:
            try:  # decision.expr.evaluate, inlined: one frame less per expression
                v = fn(values)
            except NULL_ERRORS:
                v = None
            values[name] = v if type(v) in _PLAIN else jsonable(v)
        return values

    def window_requests(self, event: dict) -> list[tuple[str, tuple, Any]]:
        """The (stream id, key, query) of every window read `compute` makes for `event` (server mode
        sends them with the event's change-log round trip)."""
        return self._requests([key(event) for key in self._keys])

    def _requests(self, keys: list) -> list[tuple[str, tuple, Any]]:
        return [(sid, k, q) for k, asks in zip(keys, self._asks) if k is not None for sid, q in asks]

    def _windows(self, event: dict, tenant: str, state: Any, values: dict[str, Any]) -> None:
        t = event["ts"]
        keys = [key(event) for key in self._keys]  # streams keyed alike share the key tuple
        requests = self._requests(keys)
        results = state.query(tenant, t, requests, token=event.get("event_id")) if requests else ()
        i = 0
        for k, serve in zip(keys, self._serve):
            for empty, if_empty, picks, pick, finals, current in serve:
                cur = None
                if k is None:  # no key value: the window is empty, and the event is in no window
                    res = empty
                else:
                    res = results[i]
                    i += 1
                    if current is not None:
                        scenes, matches, payload = current
                        if event.get("scene") in scenes and (matches is None or matches(event)):
                            cur = payload(event)
                if res is empty and cur is None and if_empty is not None:
                    values.update(if_empty)  # most reads: a key with nothing in its windows
                    continue
                if picks:
                    values.update(zip(picks, pick(res)))
                for name, fin in finals:
                    values[name] = fin(res, cur, t)


def _empty_values(r: _Read) -> dict[str, Any] | None:
    """The read's values over empty windows without the current event, worked out once (shared by
    every event, so only immutable scalars); None if any is not, or depends on the event's time."""
    empty = r.query.empty
    out = dict(zip(r.picks, r.pick(empty))) if r.picks else {}
    for name, fin in r.finals:
        v, later = fin(empty, None, 0), fin(empty, None, 1 << 45)
        if v != later or type(v) is not type(later):
            return None
        out[name] = v
    return out if all(type(v) in _PLAIN or type(v) is float for v in out.values()) else None


def _current_of(r: _Read) -> tuple | None:
    """What decides whether (and how) the current event counts in its own window, if any variable asks."""
    return (r.stream.scenes, r.stream.matches, r.stream.payload) if r.current else None


def _no_lists(*args: Any) -> bool:
    raise AttributeError("a plan with list variables needs `lists`")


_PLAIN = frozenset({int, str, bool, type(None)})  # an expression value jsonable() returns as it is


def compile_plan(varset: VariableSet, needed: Iterable[str], *, streams: StreamSet | None = None) -> Plan:
    """The plan computing `needed` and what they read; `streams`: the bundle's StreamSet, whose
    streams the plan must read (built from `needed` alone when omitted)."""
    order = varset.closure(needed)
    if streams is None:
        streams = StreamSet.build(varset, order)
    fields, lists, exprs, network = [], [], [], []
    by_stream: dict[str, list[WindowVar]] = {}
    for name in order:
        var = varset[name]
        if isinstance(var, FieldVar):
            fields.append((name, field_getter(var.field), var.default))
        elif isinstance(var, WindowVar):
            by_stream.setdefault(streams.stream_for(var).id, []).append(var)
        elif isinstance(var, ListVar):
            lists.append((name, var.list_type, tuple((f, field_getter(f)) for f in var.entity)))
        elif isinstance(var, NetworkVar):
            network.append((name, var.measure))
        else:
            assert isinstance(var, ExprVar)
            exprs.append((name, varset.expr_of(name)))
    key_at: dict[tuple[str, ...], int] = {}
    for sid in by_stream:
        key_at.setdefault(streams.streams[sid].by, len(key_at))
    reads = [_read(streams.streams[sid], key_at[streams.streams[sid].by], group) for sid, group in by_stream.items()]
    reads.sort(key=lambda r: r.key_at)  # a state looks a key up once for the run of streams it keys
    return Plan(order, fields, reads, lists, exprs, [key_getter(by) for by in key_at], network)


def _read(stream: Stream, key_at: int, group: list[WindowVar]) -> _Read:
    windows: dict[int, int] = {}
    ops: dict[tuple[int, int, int], int] = {}
    picks, pick_at, finals = [], [], []
    for var in group:
        wi = windows.setdefault(var.window_ms, len(windows))
        name = column_of(var)
        col = -1 if name is None else stream.column(name)
        at = []
        for op in OPS[var.agg]:
            op_col = -1 if op in _NO_COLUMN else col  # so ratio's COUNT is the stream's COUNT
            at.append(ops.setdefault((op, wi, op_col), len(ops)))
        if var.agg in _AS_IS and not var.include_current:
            picks.append(var.name)
            pick_at.append(at[0])
        else:
            finals.append((var.name, finisher(var.agg, at, col, var.include_current)))
    query = WindowQuery(tuple(windows), tuple(ops))
    # itemgetter of one index gives a value, of two a tuple: one pick is asked twice, zip reads the first
    pick = itemgetter(*pick_at, *pick_at[:1]) if len(pick_at) == 1 else itemgetter(*pick_at) if pick_at else None
    return _Read(stream, key_at, query, tuple(picks), pick, tuple(finals), any(v.include_current for v in group))


_AS_IS = {"count", "sum", "min", "max", "last"}  # the value is the op's result, unchanged
_NO_COLUMN = {COUNT, FIRST_TS, LAST_TS}


def jsonable(value: Any) -> Any:
    """An expression's value as JSON can carry it: tuples and sets become lists, inf and NaN null."""
    t = type(value)
    if value is None or t is int or t is str or t is bool:
        return value
    if t is float:
        return value if math.isfinite(value) else None
    if t in (list, tuple):
        return [jsonable(v) for v in value]
    if t in (set, frozenset):
        items = [jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    return value
