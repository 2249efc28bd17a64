"""Per-event cost of step 4 + step 9 of the walk: `plan.compute(event)` then `streams.update(event)`.

A plan of ~150 variables (window aggregates over 1m..90d on customer, device, ip, phone, id
number, payee card and pairs of them; fields; expressions), over a memory state warmed with
200,000 events spread over 90 days. Target: median <= 150 us, p99 <= 1 ms on one core.

    .venv/bin/python bench/variables_micro.py [--warm 200000] [--events 20000]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time

from tianwang.state.memory import MemoryState
from tianwang.variables.compiler import compile_plan
from tianwang.variables.streams import StreamSet
from tianwang.variables.varset import VariableSet

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
T0 = 1_767_225_600_000
KEYS = {"customer_id": 30_000, "device_id": 25_000, "ip": 15_000, "phone_hash": 30_000,
        "id_number_hash": 30_000, "payee_card_hash": 20_000}
WINDOWS = ("1m", "10m", "1h", "1d", "7d", "30d", "90d")


def declarations() -> list[dict]:
    items: list[dict] = []

    def add(name: str, kind: str, **kw) -> None:
        items.append({"name": name, "kind": kind, "description": name, **kw})

    for f in ("amount", "credit_limit", "channel", "hour", "age", "on_call"):
        add(f, "field", field=f, default=0 if f in ("amount", "credit_limit", "age", "hour") else None)
    for by in KEYS:
        stem = by.removesuffix("_hash").removesuffix("_id")
        for w in WINDOWS:
            add(f"apply_cnt_{stem}_{w}", "window", scene="apply", by=by, window=w, agg="count")
        for w in ("1h", "1d", "30d"):
            add(f"money_sum_{stem}_{w}", "window", scene=["apply", "drawdown"], by=by, window=w, agg="sum", of="amount")
        add(f"money_max_{stem}_30d", "window", scene=["apply", "drawdown"], by=by, window="30d", agg="max", of="amount")
        add(f"money_avg_{stem}_7d", "window", scene=["apply", "drawdown"], by=by, window="7d", agg="avg", of="amount")
        add(f"first_{stem}_90d", "window", scene=["apply", "drawdown"], by=by, window="90d", agg="first_seen")
        add(f"big_{stem}_1d", "window", scene="apply", by=by, window="1d", agg="count", where="amount >= 5000000")
        add(f"login_cnt_{stem}_1h", "window", scene="login", by=by, window="1h", agg="count", include_current=True)
    for by, of in (("device_id", "customer_id"), ("ip", "customer_id"), ("phone_hash", "device_id"),
                   ("customer_id", "device_id"), ("payee_card_hash", "customer_id"), ("id_number_hash", "phone_hash")):
        for w in ("1h", "1d", "30d"):
            add(f"distinct_{of}_by_{by}_{w}", "window", scene=["apply", "drawdown", "login"], by=by, window=w,
                agg="distinct", of=of)
    add("last_ip_customer", "window", scene="login", by="customer_id", window="30d", agg="last", of="ip")
    add("fail_ratio_customer_1d", "window", scene="login", by="customer_id", window="1d", agg="ratio",
        ratio_where="result == 'fail'")
    for w in ("1h", "1d"):
        add(f"pair_cnt_{w}", "window", scene="apply", by=["device_id", "customer_id"], window=w, agg="count")
    add("share_of_limit", "expr", expr="amount / credit_limit if credit_limit else 0")
    for stem in ("customer", "device", "ip", "phone", "id_number", "payee_card"):
        add(f"burst_{stem}", "expr", expr=f"apply_cnt_{stem}_1h >= 3 or apply_cnt_{stem}_10m >= 2")
        add(f"money_ratio_{stem}", "expr", expr=f"money_sum_{stem}_1d / money_sum_{stem}_30d if money_sum_{stem}_30d else 0")
        add(f"new_{stem}", "expr", expr=f"first_{stem}_90d is None or first_{stem}_90d < 3600")
    add("night", "expr", expr="hour < 6")
    add("any_burst", "expr", expr="burst_customer or burst_device or burst_ip or burst_phone")
    add("risk", "expr", expr="coalesce(money_ratio_customer, 0) * 10 + (5 if any_burst else 0) + (3 if night else 0)")
    return items


def make_event(rng: random.Random, i: int, ts: int) -> dict:
    def pick(field: str) -> str:
        n = KEYS[field]
        k = int(rng.paretovariate(1.1)) if rng.random() < 0.02 else rng.randrange(n)  # a few hot keys
        return f"{field[:2]}{k % n}"

    scene = rng.choices(("apply", "drawdown", "login", "payment"), (4, 2, 3, 1))[0]
    e = {"event_id": f"e{i}", "scene": scene, "ts": ts, "hour": (ts // HOUR) % 24, "channel": "app",
         "on_call": rng.random() < 0.1, "age": rng.randint(18, 70)}
    for field in KEYS:
        if rng.random() < 0.9:
            e[field] = pick(field)
    if scene in ("apply", "drawdown", "payment"):
        e["amount"] = rng.randint(1, 200) * 50_000
        e["credit_limit"] = 20_000_000
    if scene == "login":
        e["result"] = "fail" if rng.random() < 0.2 else "success"
    return e


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm", type=int, default=200_000)
    ap.add_argument("--events", type=int, default=20_000)
    args = ap.parse_args()
    rng = random.Random(1)
    varset = VariableSet.from_files({"bench.yaml": declarations()})
    needed = sorted(varset.names)
    streams = StreamSet.build(varset, needed)
    plan = compile_plan(varset, needed, streams=streams)
    state = MemoryState()
    span = 90 * DAY
    t0 = time.perf_counter()
    for i in range(args.warm):
        e = make_event(rng, i, T0 + i * span // args.warm)
        streams.update(e, tenant="t", state=state, token=e["event_id"])
    warm_s = time.perf_counter() - t0
    step = span // max(args.warm, 1)
    events = [make_event(rng, args.warm + i, T0 + span + i * step) for i in range(args.events)]
    both, compute, update = [], [], []
    gc.collect()
    clock = time.perf_counter_ns
    for e in events:
        a = clock()
        plan.compute(e, tenant="t", state=state)
        b = clock()
        streams.update(e, tenant="t", state=state, token=e["event_id"])
        c = clock()
        both.append(c - a), compute.append(b - a), update.append(c - b)
    stats = state.stats()
    print(f"plan: {len(plan.names)} variables ({sum(1 for n in plan.names if varset[n].kind == 'window')} window) "
          f"over {len(plan.streams)} streams; state: {stats.series:,} series, {stats.entries:,} entries, "
          f"~{stats.approx_bytes / 2**20:.0f} MiB by stats(), process max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; warm-up {args.warm:,} events in {warm_s:.1f}s")
    print(f"{'per event (us)':<22}{'median':>8}{'p90':>8}{'p99':>8}{'max':>8}")
    for label, xs in (("compute + update", both), ("compute", compute), ("update", update)):
        q = statistics.quantiles(xs, n=100)
        print(f"{label:<22}{statistics.median(xs) / 1000:>8.0f}{q[89] / 1000:>8.0f}{q[98] / 1000:>8.0f}{max(xs) / 1000:>8.0f}")


if __name__ == "__main__":
    main()
