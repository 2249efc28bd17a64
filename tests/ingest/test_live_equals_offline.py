"""The promise behind backtests: offline point-in-time values equal the live ones, and a
restart keeps every window."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tianwang.network import Network, poison_hashes
from tianwang.sim.sample import sample_day
from tianwang.store import decisions as decision_repo
from tianwang.store.events import iter_events
from tianwang.variables.offline import compute_offline
from tests.serving import open_runtime

DEMO = Tenant("demo", "demo")


def traffic(days: int, customers: int) -> list[dict]:
    """Several labelled days; the same customers come back, some events arrive late."""
    start = datetime(2026, 9, 1, tzinfo=timezone(timedelta(hours=8)))
    events = []
    for d in range(days):
        events += sample_day(seed=d, customers=customers, start=start + timedelta(days=d * 3), prefix=f"d{d}")
    for i in range(7, len(events) - 1, 11):  # late arrivals: swap neighbours out of time order
        events[i], events[i + 1] = events[i + 1], events[i]
    return events


def decide_all(rt, events):
    pending = [accept(rt, DEMO, e) for e in events]
    return [p.wait() for p in pending]


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def test_offline_values_equal_every_stored_live_value(tmp_path, db_url):
    rt = open_runtime(tmp_path / "data", None if db_url.startswith("sqlite") else db_url)
    try:
        events = traffic(days=8, customers=70)
        assert len(events) >= 3000
        decided = decide_all(rt, events)
        assert {d["outcome"] for d in decided} >= {"pass", "reject"}
        bundle, _ = rt.policies.bundle("demo")
        needed = {n for plan in bundle.plans.values() for n in plan.names}
        records = [row["payload"] for row in iter_events(rt.db, tenant="demo")]
        assert len(records) == len(events)
        # The network's measures: a fresh network linking the stored records in order, each
        # decision's outcome marked after its event (what a rebuild from the log does).
        net = Network(poison=poison_hashes(rt.hasher))
        measures = {}
        with rt.db.connect() as conn:
            for record in records:
                measures[record["event_id"]] = net.link(record)
                outcome = decision_repo.get_decision(conn, tenant="demo", event_id=record["event_id"])["outcome"]
                net.mark(record["customer_id"], outcome)
        offline = dict(compute_offline(bundle.variables, needed, records, tenant_of=lambda e: "demo", lists=rt.live.lists,
                                       measures_of=lambda e: measures[e["event_id"]]))
        compared = 0
        with rt.db.connect() as conn:
            for record in records:
                stored = decision_repo.get_decision(conn, tenant="demo", event_id=record["event_id"])["values"]
                mine = offline[record["event_id"]]
                for name, value in stored.items():
                    assert same(value, mine[name]), (record["event_id"], name, value, mine[name])
                    compared += 1
        assert compared > 50_000, compared
    finally:
        rt.close()


def test_a_restart_keeps_every_window(tmp_path):
    events = traffic(days=3, customers=40)
    head, tail = events[: len(events) // 2], events[len(events) // 2 :]

    rt = open_runtime(tmp_path / "one", None)
    straight = decide_all(rt, events)
    rt.close()

    rt = open_runtime(tmp_path / "two", None)
    decide_all(rt, head)
    rt.close()  # checkpoints
    rt = open_runtime(tmp_path / "two", None)
    after_restart = decide_all(rt, tail)
    rt.close()
    for a, b in zip(straight[len(head) :], after_restart):
        assert a["values"] == b["values"], a["event_id"]
        assert a["outcome"] == b["outcome"]


def test_a_lost_checkpoint_is_rebuilt_from_the_log(tmp_path):
    events = traffic(days=2, customers=30)
    head, tail = events[:300], events[300:]
    rt = open_runtime(tmp_path / "one", None)
    straight = decide_all(rt, events)
    rt.close()

    rt = open_runtime(tmp_path / "two", None)
    decide_all(rt, head)
    rt.close()
    (tmp_path / "two" / "state.ckpt").write_bytes(b"garbage")
    rt = open_runtime(tmp_path / "two", None)
    after = decide_all(rt, tail)
    rt.close()
    assert [a["values"] for a in straight[300:]] == [b["values"] for b in after]


@pytest.mark.parametrize("late_hours", [1, 24 * 30])
def test_late_events_see_only_what_happened_before_them(tmp_path, late_hours):
    from tests.factories import apply_event

    rt = open_runtime(tmp_path / "d", None)
    try:
        for i in range(3):
            decide_all(rt, [apply_event(f"a{i}", customer=f"c{i}", device_id="shared-dev", minute=60 * 24 * 40 + i)])
        late = apply_event("late", customer="c9", device_id="shared-dev", minute=60 * 24 * 40 - 60 * late_hours)
        values = decide_all(rt, [late])[0]["values"]
        counts = {k: v for k, v in values.items() if "device" in k and "cnt" in k and isinstance(v, int)}
        assert counts and all(v == 0 for v in counts.values()), counts
    finally:
        rt.close()
