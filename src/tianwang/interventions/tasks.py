"""The tasks of a decision: one queued task per intervention it names, written with its event.

`tasks_for` is called in the walk's step 7 (ingest/walk.py `outbox`) and only builds **effects**
(functions of a connection run in the transaction that stores the event): a task exists iff
its event was committed, and a repeated effect adds nothing (the task's (tenant, event_id,
kind) is unique). `freeze` is not a task: the lending system freezes the line itself when it
reads the decision. The behaviour events that feed results back (`event_type` "intervention",
worker.py) never make tasks, so an outcome cannot set off another intervention in a loop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from tianwang.store import interventions as repo
from tianwang.store.writer import Effect

FEEDBACK_EVENT_TYPE = "intervention"  # the behaviour events that carry results back (worker.py)


def is_feedback(record: dict[str, Any]) -> bool:
    """True for a behaviour event that carries an intervention's result back."""
    return record.get("scene") == "behavior" and record.get("event_type") == FEEDBACK_EVENT_TYPE


def tasks_for(tenant: str, record: dict[str, Any], decision: dict[str, Any]) -> list[Effect]:
    """One effect per intervention kind of the decision (not `freeze`), each queueing a task with
    what the provider needs to say why (the scene, outcome, reasons, amount)."""
    kinds = [k for k in dict.fromkeys(decision.get("interventions") or ()) if k in repo.KINDS]
    if not kinds or is_feedback(record):
        return []
    detail = {
        "scene": record["scene"],
        "outcome": decision["outcome"],
        "occurred_at": decision.get("occurred_at") or record.get("occurred_at"),
        "reasons": [{"code": r.get("code"), "text": r.get("text")} for r in decision.get("reasons") or ()][:5],
    }
    if isinstance(record.get("amount"), int):
        detail["amount"] = record["amount"]
    event_id, customer_id = record["event_id"], record["customer_id"]

    def queue(kind: str) -> Effect:
        def effect(conn: Connection) -> None:
            repo.add(conn, tenant=tenant, event_id=event_id, customer_id=customer_id, kind=kind, detail=detail)
        return effect

    return [queue(kind) for kind in kinds]
