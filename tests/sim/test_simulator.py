"""The simulator: deterministic, valid, ordered, labelled, with every attack and hard-normal group."""

from __future__ import annotations

import io
import itertools
import json
import random
from collections import Counter, defaultdict

import orjson
import pytest
from click.testing import CliRunner

from tianwang.cli import main
from tianwang.events import parse_event
from tianwang.sim import attacks
from tianwang.sim.attacks import ATTACKS
from tianwang.sim.population import BIG_EMPLOYER, GROUPS, World, build_population
from tianwang.sim.run import simulate, write_jsonl


def _bytes(**kw) -> bytes:
    buf = io.BytesIO()
    write_jsonl(simulate(**kw), buf, progress=None)
    return buf.getvalue()


@pytest.fixture(scope="module")
def run() -> list[dict]:
    return list(simulate(2000, 7, seed=11))


def test_same_seed_same_bytes_and_another_seed_differs():
    a = _bytes(customers=300, days=4, seed=5)
    assert a == _bytes(customers=300, days=4, seed=5)
    assert a != _bytes(customers=300, days=4, seed=6)
    assert a.count(b"\n") > 500


def test_every_event_passes_the_schema(run):
    for ev in run:
        parse_event(ev)


def test_events_are_in_time_order_with_unique_ids(run):
    times = [parse_event(ev).occurred_at for ev in run]
    assert all(a <= b for a, b in itertools.pairwise(times))
    assert len({ev["event_id"] for ev in run}) == len(run)
    assert all(ev["occurred_at"].endswith("+08:00") for ev in run)


def test_every_attack_type_and_hard_normal_group_appears(run):
    labels = Counter(ev["label"] for ev in run)
    assert set(labels) == {"normal", *ATTACKS}
    assert labels["normal"] > 0.9 * len(run)
    groups = Counter(ev["group"] for ev in run if "group" in ev)
    assert set(groups) == set(GROUPS)
    assert all(ev["label"] == "normal" for ev in run if "group" in ev)


def test_rings_carry_their_id_on_every_event_and_have_three_members(run):
    members, kinds = defaultdict(set), defaultdict(set)
    for ev in run:
        if ev["label"] in ("batch_attack", "intermediary"):
            assert "ring_id" in ev, ev
        if "ring_id" in ev:
            members[ev["ring_id"]].add(ev["customer_id"])
            kinds[ev["ring_id"]].add(ev["label"])
    assert members
    assert all(len(m) >= 3 for m in members.values())
    assert all(len(k) == 1 for k in kinds.values())
    # a batch ring shares a few emulator devices among its members
    ring = next(r for r, k in kinds.items() if k == {"batch_attack"})
    devices = {ev["device_id"] for ev in run if ev.get("ring_id") == ring}
    assert len(devices) < len(members[ring])


def _by_customer(run, group):
    out = defaultdict(list)
    for ev in run:
        if ev.get("group") == group:
            out[ev["customer_id"]].append(ev)
    return out


def test_hard_normal_groups_look_like_what_a_naive_rule_stops(run):
    campus_ips = Counter()
    for cid, evs in _by_customer(run, "campus").items():
        for ip in {e["ip"] for e in evs}:
            campus_ips[ip] += 1
    assert campus_ips.most_common(1)[0][1] >= 5  # many students behind one campus IP

    family_devices = defaultdict(set)
    for cid, evs in _by_customer(run, "family").items():
        for e in evs:
            family_devices[e["device_id"]].add(cid)
    assert max(len(v) for v in family_devices.values()) in (2, 3)

    movers = _by_customer(run, "mover")
    assert any(len({e["city"] for e in evs if e["scene"] != "payment"}) > 1 for evs in movers.values())

    shoppers = _by_customer(run, "multi_lender_shopper")
    assert any(len({e["institution_id"] for e in evs if e["scene"] == "inquiry"}) >= 3 for evs in shoppers.values())


def test_the_big_employer_has_hundreds_of_staff():
    pop = build_population(10_000, 30, random.Random(1), World(random.Random(1)))
    staff = [c for c in pop if c.employer == BIG_EMPLOYER and c.group == "big_employer"]
    assert len(staff) >= 300
    families = Counter(c.device for c in pop if c.group == "family")
    assert set(families.values()) <= {2, 3}


def test_telecom_scam_victims_are_long_standing_and_pay_a_stranger(run):
    scams = [ev for ev in run if ev["label"] == "telecom_scam" and ev["scene"] == "drawdown"]
    assert scams
    for ev in scams:
        assert ev["customer_id"].startswith("c")  # an existing customer, not a fraudster's account
        assert ev["amount"] >= 0.6 * ev["credit_limit"]
        assert ev["payee_name"] != ev["name"]  # the "safe account" is in someone else's name
        # only the Android app can see the call
        assert ev.get("on_call") is (True if ev["os"].startswith("Android") else None)


def test_honest_drawdowns_include_the_hard_cases_of_a_scam_rule():
    events = list(simulate(5000, 30, seed=6, volume=0))
    dd = [ev for ev in events if ev["scene"] == "drawdown"]
    assert len(dd) > 500
    assert any(ev.get("on_call") for ev in dd)  # on the phone while drawing
    assert any(ev["payee_name"] != ev["name"] for ev in dd)  # paid straight to a seller (受托支付)
    assert any(ev["amount"] >= 0.9 * ev["credit_limit"] for ev in dd)  # the whole line
    assert sum(ev["payee_name"] == ev["name"] for ev in dd) > 0.9 * len(dd)


def test_honest_lives_include_loans_repaid_and_some_repaid_late():
    events = list(simulate(3000, 30, seed=4, volume=0))
    repays = [ev for ev in events if ev["scene"] == "repay"]
    assert len(repays) > 100
    assert any(ev["overdue_days"] > 0 for ev in repays)  # defaults are credit risk, labelled normal
    scenes = Counter(ev["scene"] for ev in events)
    assert {"register", "bind_card", "apply", "inquiry", "drawdown", "payment", "repay", "login", "change_phone"} <= set(scenes)
    cities = defaultdict(set)  # some travel: payments in another city
    for ev in events:
        if ev["scene"] == "payment":
            cities[ev["customer_id"]].add(ev["merchant_city"])
    assert any(len(v) > 1 for v in cities.values())


def test_volume_knob_turns_attacks_off_and_up():
    quiet = Counter(ev["label"] for ev in simulate(500, 3, seed=2, volume={"batch_attack": 0}))
    assert "batch_attack" not in quiet and "telecom_scam" in quiet
    none = Counter(ev["label"] for ev in simulate(500, 3, seed=2, volume=0))
    assert set(none) == {"normal"}
    cases = {ev["attack_id"] for ev in simulate(500, 3, seed=2, volume=100) if ev["label"] == "identity_theft"}
    assert len(cases) >= 3


def test_the_generator_streams():
    events = simulate(500, 100_000, seed=3)  # a run far too long to build in memory
    first = list(itertools.islice(events, 2000))
    assert len(first) == 2000


def test_cli_writes_the_file_and_prints_the_summary(tmp_path):
    out = tmp_path / "log.jsonl"
    result = CliRunner().invoke(main, ["simulate", "--customers", "300", "--days", "3", "--seed", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    assert lines and all(orjson.loads(line)["label"] for line in lines)
    assert "events by label and scene" in result.output
    assert "normal" in result.output and "batch_attack" in result.output
    assert f"{len(lines):,}" in result.output
    first = json.loads(lines[0])
    assert first["occurred_at"].startswith("2026-11-01")


def test_daily_volume_gives_every_attack_type_a_case_most_days():
    days, customers = 40, 3000
    schedule = attacks.plan(customers, days, random.Random(5), attacks.daily_volume(customers))
    per_type = Counter(kind for day in schedule for kind in day)
    assert set(per_type) == set(attacks.ATTACKS)
    assert all(n >= 0.7 * days for n in per_type.values()), per_type
    base = Counter(k for day in attacks.plan(customers, days, random.Random(5)) for k in day)
    assert sum(base.values()) < sum(per_type.values()) / 5  # the base rates would leave most days empty
