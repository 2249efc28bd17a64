"""Adaptive attackers: rings move to a fresh farm after a pulse that was stopped, agents to a second phone."""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from datetime import datetime

import orjson

from tianwang.sim.attacks import ATTACKS
from tianwang.sim.rings import Feedback
from tianwang.sim.run import simulate, write_jsonl

ONLY_RINGS = {kind: 0 for kind in ATTACKS} | {"batch_attack": 2000}
ONLY_AGENTS = {kind: 0 for kind in ATTACKS} | {"intermediary": 4000}


def _run(answer=None, *, volume=ONLY_RINGS, adaptive=True, seed=3) -> list[dict]:
    """The run's events; `answer(event)` (an outcome) is told back to the rings as each event is yielded."""
    if answer is None:
        return list(simulate(300, 4, seed=seed, volume=volume, adaptive=adaptive))
    feedback = Feedback()
    out = []
    for ev in simulate(300, 4, seed=seed, volume=volume, adaptive=adaptive, feedback=feedback):
        feedback.observe(ev, answer(ev))
        out.append(ev)
    return out


def _pulses(events: list[dict]) -> dict[str, list[list[dict]]]:
    """Each ring's events, split into pulses (members registering more than an hour after the last)."""
    rings: dict[str, list[list[dict]]] = defaultdict(list)
    last: dict[str, float] = {}
    members: dict[str, int] = {}
    for ev in events:
        if ev["label"] != "batch_attack":
            continue
        ring = ev["ring_id"]
        if ev["scene"] == "register":
            at = datetime.fromisoformat(ev["occurred_at"]).timestamp()
            if ring not in last or at - last[ring] > 3600:
                rings[ring].append([])
            last[ring] = at
            members[ev["customer_id"]] = len(rings[ring]) - 1
        rings[ring][members[ev["customer_id"]]].append(ev)
    return rings


def _farm(pulse: list[dict]) -> tuple[set, set]:
    return {ev["device_id"] for ev in pulse}, {ev["ip"].rsplit(".", 1)[0] for ev in pulse}


def _multi_pulse(rings):
    multi = {ring: pulses for ring, pulses in rings.items() if len(pulses) > 1}
    assert len(multi) >= 5, "too few rings with several pulses to tell"
    return multi


def _moves_every_pulse(rings) -> bool:
    return all(not (_farm(a)[0] & _farm(b)[0]) and _farm(a)[1] != _farm(b)[1]
               for pulses in rings.values() for a, b in itertools.pairwise(pulses))


def _keeps_its_farm(rings) -> bool:
    return all(len({net for p in pulses for net in _farm(p)[1]}) == 1 and
               len({d for p in pulses for d in _farm(p)[0]}) <= len(_farm(pulses[0])[0]) + 4
               for pulses in rings.values())


def test_a_ring_that_is_stopped_moves_to_a_fresh_farm_after_every_pulse():
    rings = _multi_pulse(_pulses(_run(lambda ev: "reject")))
    assert _moves_every_pulse(rings)
    assert not _keeps_its_farm(rings)


def test_a_ring_that_is_never_stopped_keeps_its_farm():
    rings = _multi_pulse(_pulses(_run(lambda ev: "pass")))
    assert _keeps_its_farm(rings)
    assert not _moves_every_pulse(rings)
    # a review is not a stop (decision.outcomes.STOPPED: verify, delay, reject)
    assert _keeps_its_farm(_pulses(_run(lambda ev: "review")))


def test_without_feedback_an_adaptive_ring_assumes_it_was_seen_and_moves_every_pulse():
    assert _moves_every_pulse(_multi_pulse(_pulses(_run())))
    assert _keeps_its_farm(_multi_pulse(_pulses(_run(adaptive=False))))


def test_only_the_pulse_that_was_stopped_makes_the_ring_move():
    first_pulse_until: dict[str, float] = {}

    def answer(ev):  # stop each ring's first pulse only (its events span less than 2 hours)
        if not ev.get("ring_id"):
            return "pass"
        at = datetime.fromisoformat(ev["occurred_at"]).timestamp()
        return "reject" if at < first_pulse_until.setdefault(ev["ring_id"], at + 2 * 3600) else "pass"

    rings = _multi_pulse(_pulses(_run(answer)))
    for pulses in rings.values():
        assert not _farm(pulses[0])[0] & _farm(pulses[1])[0]
        assert _farm(pulses[0])[1] != _farm(pulses[1])[1]
        for a, b in itertools.pairwise(pulses[1:]):
            assert _farm(a)[1] == _farm(b)[1]
    assert any(len(p) > 2 for p in rings.values())


def test_what_rings_learn_changes_their_devices_and_ips_only():
    blocked, passed = _run(lambda ev: "reject"), _run(lambda ev: "pass")
    assert len(blocked) == len(passed)
    strip = lambda ev: {k: v for k, v in ev.items() if k not in ("device_id", "ip")}  # noqa: E731
    assert [strip(ev) for ev in blocked] == [strip(ev) for ev in passed]
    assert [ev["device_id"] for ev in blocked] != [ev["device_id"] for ev in passed]


def test_an_intermediary_switches_to_a_second_phone_once_an_application_is_stopped():
    def devices(events):
        out = defaultdict(list)
        for ev in events:
            if ev["label"] == "intermediary" and ev["scene"] == "register":
                out[ev["ring_id"]].append(ev["device_id"])
        assert len(out) >= 5
        return out

    for ring, used in devices(_run(lambda ev: "reject", volume=ONLY_AGENTS)).items():
        assert len(set(used)) == 2 and used[0] != used[1] and len(set(used[1:])) == 1, ring
    assert all(len(set(used)) == 1 for used in devices(_run(lambda ev: "pass", volume=ONLY_AGENTS)).values())
    assert all(len(set(used)) == 1 for used in devices(_run(volume=ONLY_AGENTS)).values())  # offline: no one to learn from


def test_the_same_seed_and_the_same_answers_give_the_same_run_in_time_order():
    def answer(ev):  # some members stopped, the same ones every time
        return "reject" if ev.get("ring_id") and ev["customer_id"][-1] in "02468" else "pass"

    def run_bytes(answer=None) -> bytes:
        buf = io.BytesIO()
        write_jsonl(_run(answer, volume={"batch_attack": 2000, "intermediary": 4000}), buf, progress=None)
        return buf.getvalue()

    a = run_bytes(answer)
    assert a == run_bytes(answer)
    assert a != run_bytes()
    times = [orjson.loads(line)["occurred_at"] for line in a.splitlines()]
    assert times == sorted(times)  # continuations never go back in time
