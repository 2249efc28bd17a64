"""The walk, as a lending system sees it through `accept`: one event in, one durable decision out.

A small policy of its own (three applications from one device in an hour are refused; a
drawdown over a limit is delayed) makes each step visible in the answer: step 1 refuses bad
input with nothing kept, step 2 answers repeats, step 5 counts the events accepted before this
one, step 6 decides and says why, step 7 holds what waits, step 9 stores what was answered.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from tests.factories import apply_event, drawdown_event
from tests.serving import open_runtime
from tianwang.errors import Conflict
from tianwang.events import EventError
from tianwang.ingest.decision import Decision
from tianwang.ingest.walk import accept
from tianwang.store import decisions as decision_repo
from tianwang.store import events as event_repo
from tianwang.tenants.service import Tenant

DEMO = Tenant("demo", "demo")

POLICY = {
    "policy.yaml": "name: walk-spec\ntimezone: Asia/Shanghai\n",
    "variables/v.yaml": """
variables:
  - name: applies_by_device_1h
    kind: window
    scene: apply
    by: device_id
    window: 1h
    agg: count
    description: Applications from this device in the hour before
  - name: amount
    kind: field
    field: amount
    description: The amount asked for, in fen
""",
    "strategies/apply.yaml": """
strategies:
  - name: apply_spec
    scene: apply
    mode: active
    on_error: review
    rules:
      - code: DEVICE_BURST
        when: "applies_by_device_1h >= 2"
        outcome: reject
        score: 90
        reason: "{applies_by_device_1h} applications from this device in the hour before"
""",
    "strategies/drawdown.yaml": """
strategies:
  - name: drawdown_spec
    scene: drawdown
    mode: active
    on_error: review
    rules:
      - code: BIG_DRAWDOWN
        when: "amount > 1000000"
        outcome: delay
        delay: 2h
        score: 40
        reason: "A drawdown of {amount} fen waits two hours"
""",
}


@pytest.fixture
def rt(tmp_path: Path):
    folder = tmp_path / "policy"
    for name, text in POLICY.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    rt = open_runtime(tmp_path / "data", None, policy_dir=folder)
    yield rt
    rt.close()


def stored(rt, event_id: str) -> tuple[dict | None, dict | None]:
    with rt.db.connect() as conn:
        return (event_repo.get_event(conn, tenant="demo", event_id=event_id),
                decision_repo.get_decision(conn, tenant="demo", event_id=event_id))


def test_a_bad_event_is_refused_before_anything_is_kept(rt):
    bad = apply_event("bad-1", amount=-5)
    with pytest.raises(EventError) as err:
        accept(rt, DEMO, bad)
    assert "amount" in str(err.value)
    assert stored(rt, "bad-1") == (None, None)
    assert rt.ledger.inflight == {}
    # Nothing was counted either: the next application of the device sees none before it.
    first = accept(rt, DEMO, apply_event("ok-1", customer="c-9")).wait()
    assert first["values"]["applies_by_device_1h"] == 0


def test_each_event_counts_exactly_the_events_accepted_before_it(rt):
    answers = [accept(rt, DEMO, apply_event(f"a-{i}", customer="c-1", minute=i)).wait() for i in range(4)]
    assert [a["values"]["applies_by_device_1h"] for a in answers] == [0, 1, 2, 3]
    assert [a["outcome"] for a in answers] == ["pass", "pass", "reject", "reject"]
    assert answers[2]["reasons"][0]["code"] == "DEVICE_BURST"
    assert answers[2]["reasons"][0]["text"].startswith("2 applications from this device")


def test_an_answer_is_what_was_stored(rt):
    answer = accept(rt, DEMO, apply_event("s-1")).wait()
    event, row = stored(rt, "s-1")
    assert event["payload"]["event_id"] == "s-1"
    assert "phone" not in event["payload"]  # the record keeps the keyed hash, never the number
    again = Decision.from_row(row)
    assert {k: again[k] for k in again if k != "latency_ms"} == {k: answer[k] for k in answer if k != "latency_ms"}


def test_a_repeat_is_answered_with_the_first_decision_and_counted_once(rt):
    body = apply_event("r-1", customer="c-2")
    first = accept(rt, DEMO, body)
    in_flight = accept(rt, DEMO, dict(body))  # before the first is committed, or after: the same answer
    assert first.wait()["outcome"] == in_flight.wait()["outcome"]
    assert in_flight.decision["duplicate"] is True
    after = accept(rt, DEMO, dict(body)).wait()
    assert after["duplicate"] is True and after["event_id"] == "r-1"
    nxt = accept(rt, DEMO, apply_event("r-2", customer="c-2", minute=1)).wait()
    assert nxt["values"]["applies_by_device_1h"] == 1


def test_the_same_id_with_another_body_is_a_conflict_and_changes_nothing(rt):
    accept(rt, DEMO, apply_event("k-1", amount=100_000)).wait()
    with pytest.raises(Conflict):
        accept(rt, DEMO, apply_event("k-1", amount=200_000))
    event, _ = stored(rt, "k-1")
    assert event["payload"]["amount"] == 100_000


def test_a_delayed_drawdown_is_held_until_its_delay_ends(rt):
    answer = accept(rt, DEMO, drawdown_event("d-1", customer="c-3", amount=1_500_000)).wait()
    assert answer["outcome"] == "delay"
    assert answer["delay_until"] is not None and answer["delay_until"].endswith("Z")
    book = rt.live.holds("demo")
    assert [h.event_id for h in book.of("c-3")] == ["d-1"]
    # An event of the tenant three hours later moves its clock past the end: the delay is released.
    accept(rt, DEMO, apply_event("later", customer="c-4", minute=60 + 180)).wait()
    assert book.of("c-3") == []


def test_a_decision_over_its_budget_is_the_decision_it_would_have_been(rt, monkeypatch):
    import itertools

    from tianwang.ingest import walk

    ticks = itertools.count(0.0, 1.0)  # every reading of the clock a second after the last
    monkeypatch.setattr(walk, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    answers = [accept(rt, DEMO, apply_event(f"slow-{i}", customer="c-7", minute=i)).wait() for i in range(3)]
    assert [a["outcome"] for a in answers] == ["pass", "pass", "reject"]  # as fast: the rules decide
    assert all(a["fallback"] is None and a["latency_ms"] >= 1000 for a in answers)


SHADOW_FAILS = """
strategies:
  - name: apply_shadow_broken
    scene: apply
    mode: shadow
    rules:
      - code: SHADOW_DIVIDES
        when: "amount / zero_amount > 1"
        outcome: reject
        reason: "a shadow that divides by zero"
"""


def test_a_shadow_that_fails_or_is_slow_never_changes_the_live_decision(tmp_path, monkeypatch):
    """Shadows are decided after the active strategy, apart from it (issue 16, item 5)."""
    folder = tmp_path / "policy"
    for name, text in POLICY.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "variables" / "z.yaml").write_text(
        "variables:\n  - name: zero_amount\n    kind: expr\n    expr: \"amount - amount\"\n"
        "    description: Always 0, so the shadow's rule divides by zero\n")
    (folder / "strategies" / "shadow.yaml").write_text(SHADOW_FAILS)
    rt = open_runtime(tmp_path / "data", None, policy_dir=folder)
    try:
        bundle, _ = rt.policies.bundle("demo")
        shadow_plan = bundle.plans["apply_shadow_broken"]
        real = shadow_plan.compute

        def broken(*a, **k):
            raise RuntimeError("the shadow's store is away")

        monkeypatch.setattr(shadow_plan, "compute", broken)
        first = accept(rt, DEMO, apply_event("sh-1", customer="c-8")).wait()
        assert first["outcome"] == "pass" and first["fallback"] is None
        assert first["shadow"] == [{"strategy": "apply_shadow_broken",
                                    "error": "RuntimeError: the shadow's store is away"}]
        monkeypatch.setattr(shadow_plan, "compute", real)
        from tianwang.ingest import walk

        ticks = iter(range(0, 10**9, 1))  # a slow shadow: the clock moves a second a reading
        monkeypatch.setattr(walk, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks))))
        second = accept(rt, DEMO, apply_event("sh-2", customer="c-9", minute=1)).wait()
        assert second["outcome"] == "pass" and second["fallback"] is None
        assert second["shadow"][0]["strategy"] == "apply_shadow_broken"
    finally:
        rt.close()
