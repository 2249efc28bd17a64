"""Every agg on small hand-made windows, through the live path and the offline reference alike.

Each case: a window declaration, the events accepted before (offset from t in ms, fields),
the current event's fields, and the value the docs' table says. Defaults: scene apply, key
device_id = d1, window 1h, the current event at t.
"""

from __future__ import annotations

import pytest

from tianwang.variables.compiler import compile_plan
from tianwang.variables.offline import compute_offline
from tests.variables.support import DAY, HOUR, MIN, T0, event, run_live, varset_of, window

T = T0 + 100 * DAY
W = HOUR


def prior(offset_ms: int, **fields):
    return (offset_ms, {"scene": "apply", "device_id": "d1", **fields})


CUR = {"scene": "apply", "device_id": "d1"}

CASES = [
    # --- count, window edges and membership
    ("count empty", {}, [], CUR, 0),
    ("count two", {}, [prior(-10 * MIN), prior(-5 * MIN)], CUR, 2),
    ("event at t-W is out", {}, [prior(-W)], CUR, 0),
    ("event at t-W+1ms is in", {}, [prior(-W + 1)], CUR, 1),
    ("event at t is in", {}, [prior(0)], CUR, 1),
    ("earlier accepted but later ts is out", {}, [prior(+1)], CUR, 0),
    ("1m window edge", {"window": "1m"}, [prior(-MIN), prior(-MIN + 1)], CUR, 1),
    ("90d window edge", {"window": "90d"}, [prior(-90 * DAY), prior(-90 * DAY + 1)], CUR, 1),
    ("other scene not counted", {}, [prior(-MIN, scene="login")], CUR, 0),
    ("scene list", {"scene": ["apply", "login"]}, [prior(-MIN, scene="login"), prior(-MIN)], CUR, 2),
    ("counts for any current scene", {}, [prior(-MIN)], {**CUR, "scene": "repay"}, 1),
    ("other key not counted", {}, [prior(-MIN, device_id="d2")], CUR, 0),
    ("current without key: empty", {}, [prior(-MIN)], {"scene": "apply"}, 0),
    ("current key None: empty", {}, [prior(-MIN)], {"scene": "apply", "device_id": None}, 0),
    ("current key a list: empty", {}, [prior(-MIN)], {"scene": "apply", "device_id": ["d1"]}, 0),
    ("composite key", {"by": ["device_id", "customer_id"]},
     [prior(-MIN, customer_id="c1"), prior(-MIN, customer_id="c2")], {**CUR, "customer_id": "c1"}, 1),
    ("composite key part missing", {"by": ["device_id", "ip"]}, [prior(-MIN, ip="1.1.1.1")], CUR, 0),
    ("attribute key", {"by": "attributes.merchant"},
     [prior(-MIN, attributes={"merchant": "m1"}), prior(-MIN, attributes={"merchant": "m2"})],
     {**CUR, "attributes": {"merchant": "m1"}}, 1),
    ("where", {"where": "amount >= 1000"}, [prior(-MIN, amount=500), prior(-MIN, amount=1500)], CUR, 1),
    ("where missing field is no match", {"where": "amount >= 1000"}, [prior(-MIN)], CUR, 0),
    ("include_current empty", {"include_current": True}, [], CUR, 1),
    ("include_current adds one", {"include_current": True}, [prior(-MIN)], CUR, 2),
    ("include_current other scene", {"include_current": True}, [prior(-MIN)], {**CUR, "scene": "login"}, 1),
    ("include_current where no match", {"include_current": True, "where": "amount > 5"}, [], {**CUR, "amount": 1}, 0),
    ("include_current where match", {"include_current": True, "where": "amount > 5"}, [], {**CUR, "amount": 9}, 1),
    ("include_current without key", {"include_current": True}, [], {"scene": "apply"}, 0),
    # --- sum
    ("sum empty", {"agg": "sum", "of": "amount"}, [], CUR, 0),
    ("sum ints", {"agg": "sum", "of": "amount"}, [prior(-MIN, amount=5), prior(-2, amount=7)], CUR, 12),
    ("sum skips missing, text, bool", {"agg": "sum", "of": "amount"},
     [prior(-MIN, amount=5), prior(-MIN), prior(-MIN, amount="9"), prior(-MIN, amount=True)], CUR, 5),
    ("sum floats exactly rounded", {"agg": "sum", "of": "gps_lat"},
     [prior(-3, gps_lat=0.1), prior(-2, gps_lat=0.2), prior(-1, gps_lat=0.3)], CUR, 0.6),
    ("sum window of ints beside floats", {"agg": "sum", "of": "gps_lat", "window": "1m"},
     [prior(-2 * MIN, gps_lat=0.5), prior(-1, gps_lat=2)], CUR, 2),
    ("sum include_current", {"agg": "sum", "of": "amount", "include_current": True},
     [prior(-MIN, amount=5)], {**CUR, "amount": 10}, 15),
    ("sum of attribute", {"agg": "sum", "of": "attributes.score"},
     [prior(-MIN, attributes={"score": 3}), prior(-MIN, attributes={"score": 4})], CUR, 7),
    # --- avg
    ("avg empty", {"agg": "avg", "of": "amount"}, [], CUR, None),
    ("avg no numbers", {"agg": "avg", "of": "amount"}, [prior(-MIN)], CUR, None),
    ("avg", {"agg": "avg", "of": "amount"}, [prior(-MIN, amount=1), prior(-MIN, amount=2), prior(-MIN)], CUR, 1.5),
    ("avg include_current", {"agg": "avg", "of": "amount", "include_current": True},
     [prior(-MIN, amount=1)], {**CUR, "amount": 4}, 2.5),
    ("avg include_current without of", {"agg": "avg", "of": "amount", "include_current": True},
     [prior(-MIN, amount=1)], CUR, 1.0),
    # --- min / max
    ("min empty", {"agg": "min", "of": "amount"}, [], CUR, None),
    ("min skips text", {"agg": "min", "of": "amount"}, [prior(-MIN, amount=7), prior(-MIN, amount="1")], CUR, 7),
    ("max", {"agg": "max", "of": "amount"}, [prior(-MIN, amount=7), prior(-MIN, amount=9.5)], CUR, 9.5),
    ("min include_current", {"agg": "min", "of": "amount", "include_current": True},
     [prior(-MIN, amount=7)], {**CUR, "amount": 3}, 3),
    ("max include_current empty", {"agg": "max", "of": "amount", "include_current": True}, [], {**CUR, "amount": 3}, 3),
    # --- distinct
    ("distinct empty", {"agg": "distinct", "of": "ip"}, [], CUR, 0),
    ("distinct", {"agg": "distinct", "of": "ip"},
     [prior(-3, ip="a"), prior(-2, ip="b"), prior(-1, ip="a"), prior(-1)], CUR, 2),
    ("distinct skips lists", {"agg": "distinct", "of": "contact_phone_hashes"},
     [prior(-1, contact_phone_hashes=["p"])], CUR, 0),
    ("distinct include_current new", {"agg": "distinct", "of": "ip", "include_current": True},
     [prior(-1, ip="a")], {**CUR, "ip": "b"}, 2),
    ("distinct include_current seen", {"agg": "distinct", "of": "ip", "include_current": True},
     [prior(-1, ip="a")], {**CUR, "ip": "a"}, 1),
    # --- first_seen / last_seen (seconds)
    ("first_seen empty", {"agg": "first_seen"}, [], CUR, None),
    ("first_seen", {"agg": "first_seen"}, [prior(-10 * MIN), prior(-30 * MIN)], CUR, 1800.0),
    ("last_seen", {"agg": "last_seen"}, [prior(-10 * MIN), prior(-30 * MIN)], CUR, 600.0),
    ("last_seen ms", {"agg": "last_seen"}, [prior(-1500)], CUR, 1.5),
    ("first_seen include_current empty", {"agg": "first_seen", "include_current": True}, [], CUR, 0.0),
    ("first_seen include_current", {"agg": "first_seen", "include_current": True}, [prior(-MIN)], CUR, 60.0),
    ("last_seen include_current", {"agg": "last_seen", "include_current": True}, [prior(-MIN)], CUR, 0.0),
    # --- last
    ("last empty", {"agg": "last", "of": "ip"}, [], CUR, None),
    ("last is latest by time, not arrival", {"agg": "last", "of": "ip"},
     [prior(-5 * MIN, ip="b"), prior(-10 * MIN, ip="a")], CUR, "b"),
    ("last of equal ts is the later accepted", {"agg": "last", "of": "ip"},
     [prior(-MIN, ip="a"), prior(-MIN, ip="b")], CUR, "b"),
    ("last skips events without it", {"agg": "last", "of": "ip"}, [prior(-2, ip="a"), prior(-1)], CUR, "a"),
    ("last keeps a list", {"agg": "last", "of": "contact_phone_hashes"},
     [prior(-1, contact_phone_hashes=["p1", "p2"])], CUR, ["p1", "p2"]),
    ("last include_current", {"agg": "last", "of": "ip", "include_current": True},
     [prior(-1, ip="a")], {**CUR, "ip": "z"}, "z"),
    ("last include_current without it", {"agg": "last", "of": "ip", "include_current": True},
     [prior(-1, ip="a")], CUR, "a"),
    # --- ratio
    ("ratio empty", {"agg": "ratio", "ratio_where": "amount > 5"}, [], CUR, None),
    ("ratio", {"agg": "ratio", "ratio_where": "amount > 5"},
     [prior(-1, amount=9), prior(-1, amount=1), prior(-1), prior(-1, amount=3)], CUR, 0.25),
    ("ratio include_current", {"agg": "ratio", "ratio_where": "amount > 5", "include_current": True},
     [prior(-1, amount=9), prior(-1, amount=1)], {**CUR, "amount": 6}, 2 / 3),
    ("ratio within where", {"agg": "ratio", "ratio_where": "channel == 'app'", "where": "amount > 0"},
     [prior(-1, amount=1, channel="app"), prior(-1, amount=1, channel="web"), prior(-1, channel="app")], CUR, 0.5),
]


def _events(priors, current):
    evs = [event(i, T + off, **fields) for i, (off, fields) in enumerate(priors)]
    return evs + [event("cur", T, **current)]


@pytest.mark.parametrize("decl, priors, current, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_agg_live_and_offline(decl, priors, current, expected):
    varset = varset_of(window("v", **decl))
    events = _events(priors, current)
    live = list(run_live(varset, ["v"], events))[-1][1]["v"]
    offline = list(compute_offline(varset, ["v"], events))[-1][1]["v"]
    assert live == expected and type(live) is type(expected)
    assert offline == expected and type(offline) is type(expected)


def test_windows_of_one_stream_share_it():
    varset = varset_of(window("c1h"), window("c1d", window="1d"), window("s1d", agg="sum", of="amount", window="1d"),
                       window("other", where="amount > 1"))
    events = _events([prior(-2 * HOUR, amount=5), prior(-MIN, amount=7)], CUR)
    needed = ["c1h", "c1d", "s1d", "other"]
    live = list(run_live(varset, needed, events))[-1][1]
    assert live == {"c1h": 1, "c1d": 2, "s1d": 12, "other": 1}
    plan = compile_plan(varset, needed)
    assert len(plan.streams) == 2
    shared = next(s for s in plan.streams if s.where is None)
    assert shared.columns == ("of:amount",) and shared.horizon_ms == DAY
