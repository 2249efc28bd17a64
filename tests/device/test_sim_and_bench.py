"""The visit simulator holds its drift kinds and look-alikes; the bench's small run beats the baselines."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

from tianwang.device import normalise_attrs
from tianwang.sim.devices import simulate_visits

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_device", ROOT / "bench" / "device.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_visits_are_ordered_valid_deterministic_and_carry_every_drift_kind():
    visits = list(simulate_visits(400, 6, seed=5))
    assert [v["ts"] for v in visits] == sorted(v["ts"] for v in visits)
    assert [v["attrs"] for v in visits[:50]] == [v["attrs"] for v in list(simulate_visits(400, 6, seed=5))[:50]]
    kinds = Counter(k for v in visits for k in v["drift"])
    assert set(kinds) >= {"browser_update", "font", "monitor", "rotate", "zoom", "travel", "cleared", "private", "new_ip"}
    for v in visits[:500]:
        normalise_attrs(v["attrs"])
    # browser versions only go up, per device
    last: dict[str, int] = {}
    for v in visits:
        ver = v["attrs"]["browser"]["version"]
        assert ver >= last.get(v["true_device"], 0)
        last[v["true_device"]] = ver
    # a large share of devices are hardware-identical to another
    hw = Counter()
    first = {}
    for v in visits:
        a = v["attrs"]
        first.setdefault(v["true_device"], (a["canvas"], a["webgl"]["hash"], a["audio"]))
    hw.update(first.values())
    shared = sum(n for n in hw.values() if n > 1)
    assert shared / len(first) > 0.4


def test_tokens_come_back_as_the_server_answered_except_after_private_mode_or_clearing():
    answers: dict[str, str] = {}

    def issue(v):
        answers[v["true_device"]] = token = f"tok-{v['ts']}"
        return token

    given: dict[str, str] = {}
    for v in simulate_visits(200, 3, seed=2, issue=issue):
        if "private" in v["drift"] or "cleared" in v["drift"]:
            assert v["token"] is None
        elif v["true_device"] in given:
            assert v["token"] == given[v["true_device"]]
        if "private" not in v["drift"]:
            given[v["true_device"]] = answers[v["true_device"]]


def test_the_bench_small_run_beats_both_baselines():
    bench = _bench()
    server = bench.measure(bench.server, 600, 4, 3)
    client = bench.measure(bench.client_id, 600, 4, 3)
    exact = bench.measure(bench.exact_hash, 600, 4, 3)
    assert server["visits"] == client["visits"] == exact["visits"] > 3000
    assert server["reid"] > client["reid"] and server["reid"] > exact["reid"]
    assert server["false_visits"] < exact["false_visits"] / 50
    assert server["false_visits"] < 0.01 and client["false_visits"] == 0
