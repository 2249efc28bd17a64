"""Live == offline: the live path (plan + streams + memory state) gives, event by event, exactly
the values the brute-force offline reference gives over the same log.

Equality is exact (value and type) except where the arithmetic differs by design: `sum` and
`avg` with include_current over a field that holds floats add the current value to the
window's exactly rounded fsum (live) instead of taking one fsum over all values (offline), so
those, and expressions that read them, are compared with math.isclose (rel 1e-9, abs 1e-9). Every
other float (fsum sums, averages of the same totals, ratios, seconds) is computed by the same
operations on the same numbers in both paths, so it must be equal to the last bit.
"""

from __future__ import annotations

import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tianwang.state.memory import MemoryState
from tianwang.variables.compiler import compile_plan
from tianwang.variables.definitions import ExprVar, WindowVar
from tianwang.variables.offline import compute_offline
from tianwang.variables.streams import StreamSet
from tianwang.variables.varset import VariableSet
from tests.variables.support import (
    DAY, MIN, T0, FakeLists, decl, random_decls, random_events, window,
)

FLOAT_FIELDS = {"gps_lat", "attributes.score"}


def _approximate(varset: VariableSet, names: list[str]) -> set[str]:
    """The variables compared with isclose (see the module docstring)."""
    approx: set[str] = set()
    for name in names:  # dependency order: an expr's inputs come first
        var = varset[name]
        if isinstance(var, WindowVar) and var.agg in ("sum", "avg") and var.include_current and var.of in FLOAT_FIELDS:
            approx.add(name)
        elif isinstance(var, ExprVar) and varset.deps(name) & approx:
            approx.add(name)
    return approx


def _assert_same(live: dict, offline: dict, approx: set[str], where: str) -> None:
    assert live.keys() == offline.keys(), where
    for name, a in live.items():
        b = offline[name]
        if name in approx and isinstance(a, float) and isinstance(b, float):
            # Terms are bounded (|gps_lat| <= 90, scores small), so the two summation orders differ
            # by a few ulps of ~100 at most: an absolute tolerance covers results that cancel to ~0.
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, name, a, b)
        else:
            assert a == b and type(a) is type(b), (where, name, a, b)


def _live(varset, needed, events, *, lists, failed=frozenset(), checkpoint_at=None, tmp_path=None, lateness_ms):
    """The walk: compute, update; revert the events whose commit 'failed'; checkpoint + reload once."""
    streams = StreamSet.build(varset, needed)
    plan = compile_plan(varset, needed, streams=streams)
    state = MemoryState(lateness_ms=lateness_ms)
    out = {}
    for i, e in enumerate(events):
        if i == checkpoint_at:
            state.checkpoint(tmp_path / "state.ckpt", last_seq=i)
            state, seq = MemoryState.load(tmp_path / "state.ckpt")
            assert seq == i
        values = plan.compute(e, tenant=e["tenant"], state=state, lists=lists)
        streams.update(e, tenant=e["tenant"], state=state, token=e["event_id"])
        if e["event_id"] in failed:
            assert streams.revert(e, tenant=e["tenant"], state=state, token=e["event_id"]) == len(streams.appends(e))
            continue
        out[e["event_id"]] = values
    return out, state


def test_live_equals_offline_on_random_log(tmp_path):
    rng = random.Random(20261125)
    events = random_events(rng, 4000, days=100, late_ms=30 * MIN, tenants=2)
    varset = VariableSet.from_files({"variables/random.yaml": random_decls(rng, n_windows=90, n_exprs=25)})
    needed = sorted(varset.names)
    lists = FakeLists({("black", "device_id", "d3"): None, ("grey", "ip", "10.0.0.7"): T0 + 50 * DAY,
                       ("grey", "contact_phone_hashes", "p9"): None})
    failed = {e["event_id"] for e in rng.sample(events, 40)}
    live, state = _live(varset, needed, events, lists=lists, failed=failed, checkpoint_at=2500,
                        tmp_path=tmp_path, lateness_ms=3_600_000)
    kept = [e for e in events if e["event_id"] not in failed]
    offline = dict(compute_offline(varset, needed, kept, lists=lists))
    assert live.keys() == offline.keys()
    approx = _approximate(varset, varset.closure(needed))
    for event_id, values in offline.items():
        _assert_same(live[event_id], values, approx, event_id)
    # The comparison meant something: windows were non-empty, and old entries were evicted.
    filled = {agg: 0 for agg in ("count", "sum", "avg", "min", "max", "distinct", "first_seen", "last_seen", "last", "ratio")}
    for vals in offline.values():
        for name, v in vals.items():
            if name.startswith("w") and v not in (0, None):
                filled[varset[name].agg] += 1
    assert min(filled.values()) > 300, filled
    assert state.stats().entries < sum(len(StreamSet.build(varset, needed).appends(e)) for e in kept)


# ------------------------------------------------------------------ hypothesis, smaller

_AGG = st.sampled_from(["count", "sum", "avg", "min", "max", "distinct", "first_seen", "last_seen", "last", "ratio"])


@st.composite
def _decls(draw):
    items = []
    for i in range(draw(st.integers(1, 6))):
        agg = draw(_AGG)
        kw = {"agg": agg, "window": draw(st.sampled_from(["1m", "2m", "10m", "1h"])),
              "scene": draw(st.sampled_from(["apply", ["apply", "login"]])),
              "by": draw(st.sampled_from(["device_id", ["device_id", "customer_id"]])),
              "include_current": draw(st.booleans())}
        if draw(st.booleans()):
            kw["where"] = "amount >= 3"
        if agg in ("sum", "avg", "min", "max", "distinct", "last"):
            kw["of"] = draw(st.sampled_from(["amount", "gps_lat"]))
        if agg == "ratio":
            kw["ratio_where"] = "amount > 5"
        items.append(window(f"w{i}", **kw))
    items.append(decl("x", "expr", expr="w0 if w0 is not None else -1"))
    return items


_EVENT = st.fixed_dictionaries(
    {"dt": st.integers(-3 * MIN, 2 * MIN), "scene": st.sampled_from(["apply", "login", "repay"]),
     "device_id": st.sampled_from(["d1", "d2", None]), "customer_id": st.sampled_from(["c1", "c2"]),
     "amount": st.one_of(st.none(), st.integers(0, 10)),
     "gps_lat": st.one_of(st.none(), st.floats(-90, 90, allow_nan=False), st.integers(-5, 5))})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_decls(), st.lists(_EVENT, min_size=1, max_size=40))
def test_live_equals_offline_hypothesis(items, drafts):
    varset = VariableSet.from_files({"h.yaml": items})
    events, t = [], T0
    for i, d in enumerate(drafts):
        t = max(t, t + d["dt"])  # time moves forward; a negative dt makes this event late
        e = {"event_id": f"e{i}", "tenant": "t", "scene": d["scene"], "ts": t + min(d["dt"], 0),
             "customer_id": d["customer_id"]}
        e.update({k: d[k] for k in ("device_id", "amount", "gps_lat") if d[k] is not None})
        events.append(e)
    needed = sorted(varset.names)
    live, _ = _live(varset, needed, events, lists=None, lateness_ms=4 * MIN)
    offline = dict(compute_offline(varset, needed, events))
    approx = _approximate(varset, varset.closure(needed))
    for event_id, values in offline.items():
        _assert_same(live[event_id], values, approx, event_id)
