"""Window streams: which events the window state keeps, under which key, with which payload.

Owns `Stream` (the canonical definition of a flow of events: scenes, key fields, where
filter, payload columns and the longest window read from it, with a stable id hashed from
that definition) and `StreamSet` (the streams of every live plan: it appends an event to
each stream it belongs to, and reverts that when the event's commit fails).

Window variables with the same (scenes, by, where) share one stream, whatever their agg and
window: an event appended once serves them all. Payload columns are `of:FIELD` (the value of
a field) and `match:EXPR` (1 if the event matches a ratio's `ratio_where`, else 0).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import methodcaller
from typing import Any

from tianwang.decision.expr import NULL_ERRORS, Expr
from tianwang.variables.definitions import WindowVar
from tianwang.variables.varset import VariableSet, canonical_expr

ID_VERSION = 1  # bump when the meaning of a stream definition changes: every stream id changes
SCALARS = frozenset({str, int, float, bool})  # key values; anything else counts as absent


def field_getter(path: str) -> Callable[[dict], Any]:
    """`amount` → event['amount']; `attributes.NAME` → event['attributes']['NAME']; None when absent."""
    if path.startswith("attributes."):
        name = path[len("attributes."):]

        def attribute(event: dict) -> Any:
            extra = event.get("attributes")
            return extra.get(name) if type(extra) is dict else None

        return attribute
    return methodcaller("get", path)  # a C call: the hot path reads many fields per event


def key_getter(by: tuple[str, ...]) -> Callable[[dict], tuple | None]:
    """The key tuple of an event, or None when a key field is absent (or not a scalar)."""
    getters = [field_getter(f) for f in by]
    if len(getters) == 1:
        (get,) = getters

        def key1(event: dict) -> tuple | None:
            v = get(event)
            return (v,) if type(v) in SCALARS else None

        return key1
    if len(getters) == 2:  # pairs (customer × device …): no list built per event
        get_a, get_b = getters

        def key2(event: dict) -> tuple | None:
            a, b = get_a(event), get_b(event)
            return (a, b) if type(a) in SCALARS and type(b) in SCALARS else None

        return key2

    def key(event: dict) -> tuple | None:
        values = tuple([g(event) for g in getters])
        for v in values:
            if type(v) not in SCALARS:
                return None
        return values

    return key


def filter_fn(expr: Expr | None) -> Callable[[dict], bool] | None:
    if expr is None:
        return None
    fn = expr.fn

    def matches(event: dict) -> bool:
        try:  # decision.expr.evaluate, inlined (a null — missing field … — does not match)
            return bool(fn(event))
        except NULL_ERRORS:
            return False

    return matches


def column_of(var: WindowVar) -> str | None:
    """The payload column a window variable reads, if any."""
    if var.agg == "ratio":
        return "match:" + canonical_expr(var.ratio_where)
    return None if var.of is None else "of:" + var.of


@dataclass(frozen=True, eq=False)
class Stream:
    id: str
    scenes: tuple[str, ...]
    by: tuple[str, ...]  # sorted: the key tuple is in this order
    where: str | None  # canonical text
    columns: tuple[str, ...]  # sorted; the payload is in this order
    horizon_ms: int
    matches: Callable[[dict], bool] | None = field(repr=False)
    key: Callable[[dict], tuple | None] = field(repr=False)
    payload: Callable[[dict], tuple] = field(repr=False)

    def column(self, name: str) -> int:
        return self.columns.index(name)


def stream_id(scenes: tuple[str, ...], by: tuple[str, ...], where: str | None, columns: tuple[str, ...], horizon_ms: int) -> str:
    """Stable across processes and bundle versions for the same canonical definition."""
    text = json.dumps([ID_VERSION, scenes, by, where, columns, horizon_ms], ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def group_of(var: WindowVar) -> tuple:
    return (var.scenes, tuple(sorted(var.by)), None if var.where is None else canonical_expr(var.where))


def make_stream(group: tuple, columns: dict[str, Expr | None], horizon_ms: int, where: Expr | None) -> Stream:
    """`columns`: name → the compiled ratio_where of a `match:` column (None for `of:`)."""
    scenes, by, where_text = group
    names = tuple(sorted(columns))
    getters = []
    for name in names:
        pred = columns[name]
        if pred is None:
            getters.append(field_getter(name[3:]))
        else:
            getters.append(_indicator(filter_fn(pred)))
    return Stream(stream_id(scenes, by, where_text, names, horizon_ms), scenes, by, where_text, names,
                  horizon_ms, filter_fn(where), key_getter(by), _payload(getters))


def _indicator(matches: Callable[[dict], bool]) -> Callable[[dict], int]:
    return lambda event: 1 if matches(event) else 0


def _payload(getters: list[Callable[[dict], Any]]) -> Callable[[dict], tuple]:
    if not getters:
        return lambda event: ()
    if len(getters) == 1:
        (g,) = getters
        return lambda event: (g(event),)
    if len(getters) == 2:
        g, h = getters
        return lambda event: (g(event), h(event))
    return lambda event: tuple([g(event) for g in getters])


class StreamSet:
    """The streams the window state keeps for a bundle: one per (scenes, by, where)."""

    def __init__(self, streams: Iterable[Stream]):
        self.streams: dict[str, Stream] = {s.id: s for s in streams}
        self._groups = {(s.scenes, s.by, s.where): s for s in self.streams.values()}
        # scene → [(key getter, [(where text, filter, streams)])]: per event a key is read once
        # per `by`, a filter run once per text, and the entries of one key come together.
        index: dict[str, dict[tuple[str, ...], dict[str | None, list[Stream]]]] = {}
        for s in self.streams.values():
            for scene in s.scenes:
                index.setdefault(scene, {}).setdefault(s.by, {}).setdefault(s.where, []).append(s)
        # The streams of one where group as plain tuples: (id, horizon) of those without a
        # payload, (id, payload getter, horizon) of the others — no attribute reads per event.
        self._by_scene = {
            scene: [(key_getter(by), [(w, group[0].matches,
                                       tuple((s.id, s.horizon_ms) for s in group if not s.columns),
                                       tuple((s.id, s.payload, s.horizon_ms) for s in group if s.columns))
                                      for w, group in wheres.items()])
                    for by, wheres in bys.items()]
            for scene, bys in index.items()
        }

    @classmethod
    def build(cls, varset: VariableSet, needed: Iterable[str]) -> StreamSet:
        """The streams the window variables in `needed` (and what they read) need."""
        groups: dict[tuple, tuple[dict[str, Expr | None], list[int], list[Expr | None]]] = {}
        for name in varset.closure(needed):
            var = varset[name]
            if not isinstance(var, WindowVar):
                continue
            cols, horizon, where = groups.setdefault(group_of(var), ({}, [0], [None]))
            horizon[0] = max(horizon[0], var.window_ms)
            if var.where is not None and where[0] is None:
                where[0] = varset.filter_of(var.where, f"{var.origin}.where")
            col = column_of(var)
            if col is not None and col not in cols:
                ratio = var.ratio_where
                cols[col] = None if ratio is None else varset.filter_of(ratio, f"{var.origin}.ratio_where")
        return cls(make_stream(g, cols, h[0], w[0]) for g, (cols, h, w) in groups.items())

    def stream_for(self, var: WindowVar) -> Stream:
        """The stream a window variable reads; it must carry the variable's column and window."""
        s = self._groups.get(group_of(var))
        col = column_of(var)
        if s is None or (col is not None and col not in s.columns) or s.horizon_ms < var.window_ms:
            raise ValueError(f"variable '{var.name}' needs a stream this StreamSet lacks: build it from every plan's needs")
        return s

    def subset(self, ids: Iterable[str]) -> StreamSet:
        """Only the streams named (e.g. the new ones a backfill must fill)."""
        return StreamSet(self.streams[i] for i in ids)

    def __iter__(self):
        return iter(self.streams.values())

    def __len__(self) -> int:
        return len(self.streams)

    def appends(self, event: dict) -> list[tuple[str, tuple, tuple, int]]:
        """(stream id, key, payload, horizon) of every stream `event` belongs to."""
        out: list[tuple[str, tuple, tuple, int]] = []
        matched: dict[str | None, bool] = {}
        for key_of, wheres in self._by_scene.get(event.get("scene"), ()):
            key = key_of(event)
            if key is None:
                continue
            for where, matches, bare, carrying in wheres:
                if matches is not None:
                    ok = matched.get(where)
                    if ok is None:
                        ok = matched[where] = matches(event)
                    if not ok:
                        continue
                # Loops, not comprehensions: most groups hold one stream, and a comprehension is a call.
                for sid, horizon in bare:
                    out.append((sid, key, (), horizon))
                for sid, payload, horizon in carrying:
                    out.append((sid, key, payload(event), horizon))
        return out

    def update(self, event: dict, *, tenant: str, state: Any, token: str) -> None:
        """Step 9 of the walk: windows now include `event`."""
        items = self.appends(event)
        if items:
            state.append(tenant, event["ts"], token, items)

    def revert(self, event: dict, *, tenant: str, state: Any, token: str) -> int:
        """Undo `update` of the same event (its commit failed); the number of entries removed."""
        items = self.appends(event)
        if not items:
            return 0
        return state.remove(tenant, event["ts"], token, [(i[0], i[1]) for i in items])
