"""Helpers for the variables tests: declarations, a fake list index, the live walk, random data."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

from tianwang.state.memory import MemoryState
from tianwang.variables.compiler import compile_plan
from tianwang.variables.streams import StreamSet
from tianwang.variables.varset import VariableSet

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z


def window(name: str, **kw: Any) -> dict:
    kw.setdefault("scene", "apply")
    kw.setdefault("by", "device_id")
    kw.setdefault("window", "1h")
    kw.setdefault("agg", "count")
    return {"name": name, "kind": "window", "description": f"test variable {name}", **kw}


def decl(name: str, kind: str, **kw: Any) -> dict:
    return {"name": name, "kind": kind, "description": f"test variable {name}", **kw}


def varset_of(*items: dict) -> VariableSet:
    return VariableSet.from_files({"variables/test.yaml": list(items)})


class FakeLists:
    """lists.contains over a dict {(list_type, entity field, value): expires_ts or None}."""

    def __init__(self, entries: dict | None = None):
        self.entries = entries or {}
        self.calls = 0

    def contains(self, tenant: str, list_type: str, entity: str, value: Any, ts: int) -> bool:
        self.calls += 1
        for v in value if isinstance(value, list) else [value]:
            key = (list_type, entity, v)
            if key in self.entries and (self.entries[key] is None or ts < self.entries[key]):
                return True
        return False


def event(i: int | str, ts: int, scene: str = "apply", **fields: Any) -> dict:
    return {"event_id": f"e{i}", "tenant": "t1", "scene": scene, "ts": ts, "customer_id": "c1", **fields}


def run_live(varset: VariableSet, needed: Iterable[str], events: Iterable[dict], *, lists: Any = None,
             state: MemoryState | None = None) -> Iterator[tuple[str, dict]]:
    """compute then update, event by event, as the walk does."""
    needed = list(needed)
    streams = StreamSet.build(varset, needed)
    plan = compile_plan(varset, needed, streams=streams)
    state = state or MemoryState()
    for e in events:
        values = plan.compute(e, tenant=e["tenant"], state=state, lists=lists)
        streams.update(e, tenant=e["tenant"], state=state, token=e["event_id"])
        yield e["event_id"], values


def values_of(pairs: Iterable[tuple[str, dict]]) -> dict[str, dict]:
    return dict(pairs)


# ------------------------------------------------------------------ random data

SCENES = ("apply", "drawdown", "payment", "login", "register")
CHANNELS = ("app", "web", "h5")


def random_events(rng: random.Random, n: int, *, customers: int = 300, devices: int = 200, ips: int = 150,
                  days: int = 100, late_ms: int = 30 * MIN, tenants: int = 1) -> list[dict]:
    """Events in acceptance order: mostly increasing ts, bursts, minute-aligned ts, some late arrivals."""
    mean_gap = days * DAY / n
    t, out = T0, []
    for i in range(n):
        r = rng.random()
        t += rng.randint(0, 20_000) if r < 0.4 else rng.randint(0, 300_000) if r < 0.6 else \
            int(rng.expovariate(1 / ((mean_gap - 34_000) / 0.4)))
        ts = t
        if rng.random() < 0.3:
            ts -= ts % MIN  # minute-aligned, so events land exactly on window edges
        if rng.random() < 0.06:
            ts -= rng.randint(0, late_ms)  # arrives late
        scene = rng.choice(SCENES)
        # Half the events continue a recent actor's session, so short windows fill up too.
        actor = rng.choice(out[-3:]) if out and rng.random() < 0.6 else {
            "tenant": f"t{rng.randrange(tenants)}",
            "customer_id": f"c{rng.randrange(customers)}",
            "device_id": f"d{int(rng.paretovariate(1.2)) % devices}",  # a few very busy devices
            "ip": f"10.0.{rng.randrange(ips) // 250}.{rng.randrange(ips) % 250 + 1}",
        }
        e: dict[str, Any] = {
            "event_id": f"e{i}",
            "tenant": actor["tenant"],
            "scene": scene,
            "ts": ts,
            "customer_id": actor["customer_id"],
            "channel": rng.choice(CHANNELS),
            "on_call": rng.random() < 0.2,
        }
        if rng.random() < 0.9:
            e["device_id"] = actor.get("device_id") or f"d{rng.randrange(devices)}"
        if rng.random() < 0.95:
            e["ip"] = actor.get("ip") or f"10.0.9.{rng.randrange(ips)}"
        if scene in ("apply", "drawdown", "payment") or rng.random() < 0.1:
            e["amount"] = rng.choice((rng.randint(100, 5_000_000), rng.randint(1, 10) * 100_000))
        if rng.random() < 0.7:
            e["gps_lat"] = round(rng.uniform(18.0, 50.0), 6)
        attrs: dict[str, Any] = {}
        if rng.random() < 0.6:
            attrs["score"] = rng.choice((rng.random() * 1000, rng.randint(0, 1000), None, "n/a"))
        if rng.random() < 0.8:
            attrs["merchant"] = f"m{rng.randrange(40)}"
        if attrs:
            e["attributes"] = attrs
        if scene == "apply" and rng.random() < 0.5:
            e["contact_phone_hashes"] = sorted(f"p{rng.randrange(50)}" for _ in range(rng.randint(1, 3)))
        out.append(e)
    return out


_BYS = (["customer_id"], ["device_id"], ["ip"], ["device_id", "customer_id"], ["attributes.merchant"],
        ["customer_id", "channel"])
_WHERES = (None, None, "amount >= 1000000", "channel == 'app'", "on_call", "amount > 0 and channel != 'web'")
_OFS = ("amount", "amount", "attributes.score", "gps_lat", "channel", "ip", "contact_phone_hashes", "device_id")
_WINDOWS = ("1m", "5m", "30m", "1h", "6h", "1d", "7d", "30d", "90d")
_AGGS = ("count", "sum", "avg", "min", "max", "distinct", "first_seen", "last_seen", "last", "ratio")
_RATIOS = ("amount >= 1000000", "channel == 'app'", "on_call", "amount < 50000")


def random_decls(rng: random.Random, n_windows: int = 80, n_exprs: int = 20) -> list[dict]:
    """A varset with every agg (each at least once), windows 1m..90d, filters, composite keys, exprs."""
    items = [decl("f_amount", "field", field="amount", default=0),
             decl("f_score", "field", field="attributes.score"),
             decl("f_channel", "field", field="channel", default="none"),
             decl("l_device", "list", list="black", entity="device_id"),
             decl("l_any", "list", list="grey", entity=["ip", "contact_phone_hashes"])]
    for i in range(n_windows):
        agg = _AGGS[i % len(_AGGS)]
        kw: dict[str, Any] = {
            "scene": rng.sample(SCENES, rng.randint(1, 3)),
            "by": rng.choice(_BYS),
            "window": rng.choice(_WINDOWS),
            "agg": agg,
            "include_current": rng.random() < 0.3,
        }
        if (where := rng.choice(_WHERES)) is not None:
            kw["where"] = where
        if agg in ("sum", "avg", "min", "max", "distinct", "last"):
            kw["of"] = rng.choice(_OFS)
        if agg == "ratio":
            kw["ratio_where"] = rng.choice(_RATIOS)
        items.append(window(f"w{i}_{agg}", **kw))
    windows = [it["name"] for it in items if it["kind"] == "window"]
    exprs: list[str] = []
    for i in range(n_exprs):
        a, b = rng.sample(windows + exprs, 2)
        form = rng.choice(("{a} + {b}", "{a} / {b} if {b} else 0", "max({a}, {b})", "coalesce({a}, f_amount) * 2",
                           "{a} > 3 and l_device", "f_amount / {a}"))
        exprs.append(f"x{i}")
        items.append(decl(f"x{i}", "expr", expr=form.format(a=a, b=b)))
    return items
