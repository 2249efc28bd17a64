"""Point-in-time variables over an event log: the brute-force twin of the live path.

Owns `compute_offline`, which replays events in acceptance order and gives each the values
the live path should have given it, for backtests and to prove live == offline. It is
written apart from the live path on purpose: no streams, no window state, no prefix sums,
no bisection. Each window variable keeps, per key, a plain list of every earlier event that
belongs to it, and filters it by time for each event, so a bug in the live machinery cannot
hide in both.

Also owns `backfill`, which builds live window state from the log (after a restart from a
checkpoint, or for a stream a newly published version needs); that one uses the live path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from math import fsum
from typing import Any

from tianwang.decision.expr import Expr, evaluate
from tianwang.variables.compiler import jsonable
from tianwang.variables.definitions import ExprVar, FieldVar, ListVar, NetworkVar, WindowVar
from tianwang.variables.streams import StreamSet
from tianwang.variables.varset import VariableSet

_SCALAR_TYPES = (str, int, float, bool)


def _tenant(event: dict) -> str:
    return event["tenant"]


def _get(event: dict, path: str) -> Any:
    if path.startswith("attributes."):
        extra = event.get("attributes")
        return extra.get(path.split(".", 1)[1]) if isinstance(extra, dict) else None
    return event.get(path)


def _is_scalar(v: Any) -> bool:
    return type(v) in _SCALAR_TYPES


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


def _matches(expr: Expr | None, event: dict) -> bool:
    return expr is None or bool(evaluate(expr, event))


def _total(numbers: list) -> int | float:
    # Exact for ints; once a float is in, the exactly rounded sum (what the live path gives too).
    return fsum(numbers) if any(type(v) is float for v in numbers) else sum(numbers)


def aggregate(var: WindowVar, window: list[dict], t: int, ratio: Expr | None) -> Any:
    """The agg of `var` over `window` (events in acceptance order) for an event at `t`."""
    agg = var.agg
    if agg == "count":
        return len(window)
    if agg == "first_seen":
        return (t - min(e["ts"] for e in window)) / 1000 if window else None
    if agg == "last_seen":
        return (t - max(e["ts"] for e in window)) / 1000 if window else None
    if agg == "ratio":
        return sum(1 for e in window if _matches(ratio, e)) / len(window) if window else None
    values = [_get(e, var.of) for e in window]
    numbers = [v for v in values if _is_number(v)]
    if agg == "sum":
        return _total(numbers)
    if agg == "avg":
        return _total(numbers) / len(numbers) if numbers else None
    if agg == "min":
        return min(numbers) if numbers else None
    if agg == "max":
        return max(numbers) if numbers else None
    if agg == "distinct":
        return len({v for v in values if _is_scalar(v)})
    assert agg == "last"
    latest = sorted(zip((e["ts"] for e in window), range(len(window)), values))  # by ts, then acceptance
    for _, _, v in reversed(latest):
        if v is not None:
            return v
    return None


class _Window:
    """One window variable, brute force: every earlier matching event per (tenant, key)."""

    def __init__(self, var: WindowVar, varset: VariableSet):
        self.var = var
        self.where = None if var.where is None else varset.filter_of(var.where, f"{var.origin}.where")
        self.ratio = None if var.ratio_where is None else varset.filter_of(var.ratio_where, f"{var.origin}.ratio_where")
        self.history: dict[tuple, list[dict]] = {}

    def key(self, event: dict) -> tuple | None:
        values = tuple(_get(event, f) for f in self.var.by)
        return values if all(_is_scalar(v) for v in values) else None

    def belongs(self, event: dict) -> bool:
        return event.get("scene") in self.var.scenes and self.key(event) is not None and _matches(self.where, event)

    def value(self, tenant: str, event: dict) -> Any:
        t, key = event["ts"], self.key(event)
        if key is None:
            return aggregate(self.var, [], t, self.ratio)
        earlier = self.history.get((tenant, key), [])
        window = [e for e in earlier if t - self.var.window_ms < e["ts"] <= t]
        if self.var.include_current and self.belongs(event):
            window.append(event)
        return aggregate(self.var, window, t, self.ratio)

    def record(self, tenant: str, event: dict) -> None:
        if self.belongs(event):
            self.history.setdefault((tenant, self.key(event)), []).append(event)


def compute_offline(
    varset: VariableSet,
    needed: Iterable[str],
    events: Iterable[dict],
    *,
    tenant_of: Callable[[dict], str] = _tenant,
    lists: Any = None,
    measures_of: Callable[[dict], dict[str, Any]] | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event_id, values) for every event of `events` (normalised, in acceptance order).

    `measures_of(event)`: the event's ring / network measures (e.g. from a `Network` the same
    records rebuild), called once per event in order; required when a `network` variable is needed."""
    order = varset.closure(needed)
    if measures_of is None and any(isinstance(varset[n], NetworkVar) for n in order):
        raise ValueError("network variables are needed: pass measures_of")
    windows = {n: _Window(varset[n], varset) for n in order if isinstance(varset[n], WindowVar)}
    for event in events:
        tenant = tenant_of(event)
        values: dict[str, Any] = {}
        measures = measures_of(event) if measures_of is not None else None
        for name in order:
            var = varset[name]
            if isinstance(var, FieldVar):
                v = _get(event, var.field)
                values[name] = var.default if v is None else v
            elif isinstance(var, WindowVar):
                values[name] = windows[name].value(tenant, event)
            elif isinstance(var, ListVar):
                values[name] = any(_get(event, f) is not None and lists.contains(tenant, var.list_type, f, _get(event, f), event["ts"])
                                   for f in var.entity)
            elif isinstance(var, NetworkVar):
                values[name] = measures[var.measure]
            else:
                assert isinstance(var, ExprVar)
                values[name] = jsonable(evaluate(varset.expr_of(name), values))
        yield event["event_id"], values
        for w in windows.values():
            w.record(tenant, event)


def backfill(
    streamset: StreamSet,
    events: Iterable[dict],
    *,
    state: Any,
    tenant_of: Callable[[dict], str] = _tenant,
) -> int:
    """Append `events` (in acceptance order, e.g. the log since a checkpoint) to the live state."""
    n = 0
    for event in events:
        streamset.update(event, tenant=tenant_of(event), state=state, token=event["event_id"])
        n += 1
    return n
