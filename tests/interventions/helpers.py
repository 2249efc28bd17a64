"""Helpers of the intervention tests: a held drawdown with its tasks, and a provider that answers
what a test chooses."""

from __future__ import annotations

from typing import Any

from tests.factories import apply_event, drawdown_event
from tests.serving import Receiver  # noqa: F401 — the call centre of the webhook provider's tests
from tianwang.ingest.walk import accept
from tianwang.interventions.providers import Result
from tianwang.interventions.tasks import tasks_for
from tianwang.store import events as events_repo
from tianwang.store import interventions as repo


def run(rt, effects) -> None:
    """Run effects as the writer does: in one transaction."""
    with rt.db.begin() as conn:
        for effect in effects:
            effect(conn)


def walk(rt, demo, event: dict) -> dict:
    return accept(rt, demo, event).wait()


def held_drawdown(rt, demo, **extra) -> dict:
    """A customer outside any ring draws most of the line to a stranger while on a call: the
    drawdown is delayed (held) with calls and messages; its tasks are queued as the walk's step 7
    would (the wiring into ingest/walk.py's outbox is not these tests' business). The decision."""
    walk(rt, demo, apply_event("h-apply", customer="honest", minute=0))
    event = drawdown_event("h-dd", customer="honest", minute=40, amount=1_800_000, on_call=True, name="张三",
                           payee_name="王五", **extra)
    accepted = accept(rt, demo, event)
    decision = accepted.wait()
    assert decision["outcome"] == "delay", decision
    assert "manual_call" in decision["interventions"], decision
    with rt.db.connect() as conn:
        record = events_repo.get_event(conn, tenant="demo", event_id="h-dd")["payload"]  # the walk's record
    run(rt, tasks_for("demo", record, decision))
    return decision


def tasks(rt, event_id: str = "h-dd") -> dict[str, dict[str, Any]]:
    """The event's tasks by kind."""
    with rt.db.connect() as conn:
        return {t["kind"]: t for t in repo.list_of(conn, tenant="demo", event_id=event_id)}


class Chosen:
    """A provider answering each kind with the outcomes given, in turn (the last one repeats)."""

    name = "chosen"

    def __init__(self, **outcomes: str | list[str]):
        self.outcomes = {k: [v] if isinstance(v, str) else list(v) for k, v in outcomes.items()}
        self.started: list[dict[str, Any]] = []

    def start(self, task: dict[str, Any]) -> Result:
        self.started.append(task)
        queue = self.outcomes.get(task["kind"], ["delivered"])
        outcome = queue.pop(0) if len(queue) > 1 else queue[0]
        return Result(outcome, {"agent": "test"})
