"""Intervention tasks (`interventions`): an SMS, an app popup, an AI or a manual call a decision named.

A task is written queued in the transaction that stores its event (interventions/tasks.py),
started by the worker (interventions/worker.py: queued → sent, `attempts` + 1), and ends done
with an outcome — or failed when it could not be handed to its provider (outcome `failed`). A
call nobody answered goes back to queued with a later `next_at`. Each change is conditional on
the status it leaves, so the worker and a provider's callback never both end a task.

Queries run on an index: due tasks on `ix_interventions_status_next_at`, a customer's on
`ix_interventions_tenant_customer`, an event's on the unique `(tenant, event_id, kind)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.store.schema import interventions, utcnow

QUEUED, SENT, DONE, FAILED = "queued", "sent", "done", "failed"
STATUSES = (QUEUED, SENT, DONE, FAILED)
OPEN_STATUSES = (QUEUED, SENT)  # a task that may still get its outcome
KINDS = ("sms", "app_popup", "ai_call", "manual_call")  # `freeze` is the lending system's own
OUTCOMES = ("delivered", "answered", "confirmed", "denied", "no_answer", "failed")


def add(conn: Connection, *, tenant: str, event_id: str, customer_id: str, kind: str,
        detail: dict[str, Any] | None = None, next_at: datetime | None = None) -> int | None:
    """Queue a task (due at `next_at`, default now); its id, or None when (tenant, event_id, kind)
    was already stored (a repeated effect adds nothing)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    now = utcnow()
    row = {"tenant": tenant, "event_id": event_id, "customer_id": customer_id, "kind": kind, "status": QUEUED,
           "attempts": 0, "next_at": next_at or now, "outcome": None, "detail": detail, "created_at": now,
           "updated_at": now}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (dialect.insert(interventions).values(row)
            .on_conflict_do_nothing(index_elements=["tenant", "event_id", "kind"])
            .returning(interventions.c.id))
    return conn.execute(stmt).scalar_one_or_none()


def get(conn: Connection, *, tenant: str, id: int) -> dict[str, Any] | None:
    """The tenant's task with this id, or None (another tenant's task is None too)."""
    row = conn.execute(select(interventions).where(interventions.c.tenant == tenant, interventions.c.id == id)
                       ).mappings().first()
    return dict(row) if row is not None else None


def due(conn: Connection, *, now: datetime, limit: int = 100, tenants: Iterable[str] | None = None,
        exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Queued tasks whose `next_at` has come, the earliest first (of these tenants, when given;
    not of the tenants in `exclude`)."""
    query = (select(interventions)
             .where(interventions.c.status == QUEUED, interventions.c.next_at <= now)
             .order_by(interventions.c.next_at, interventions.c.id).limit(limit))
    if tenants is not None:
        tenants = sorted(set(tenants))
        if not tenants:
            return []
        query = query.where(interventions.c.tenant.in_(tenants))
    exclude = sorted(set(exclude))
    if exclude:
        query = query.where(interventions.c.tenant.not_in(exclude))
    return [dict(r) for r in conn.execute(query).mappings()]


def list_of(conn: Connection, *, tenant: str, customer_id: str | None = None, event_id: str | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    """A customer's or an event's tasks (give one, or both), oldest first."""
    if customer_id is None and event_id is None:
        raise ValueError("give customer_id or event_id")
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be 1..1000")
    query = select(interventions).where(interventions.c.tenant == tenant)
    if customer_id is not None:
        query = query.where(interventions.c.customer_id == customer_id)
    if event_id is not None:
        query = query.where(interventions.c.event_id == event_id)
    return [dict(r) for r in conn.execute(query.order_by(interventions.c.id).limit(limit)).mappings()]


def _change(conn: Connection, id: int, when: Iterable[str], **values: Any) -> bool:
    stmt = (update(interventions)
            .where(interventions.c.id == id, interventions.c.status.in_(tuple(when)))
            .values(**values, updated_at=utcnow()))
    return conn.execute(stmt).rowcount == 1


def mark_sent(conn: Connection, *, id: int, attempts: int, detail: dict[str, Any] | None = None,
              next_at: datetime | None = None) -> bool:
    """A queued task is being started (attempt number `attempts`). False when it is not queued
    (another worker, or a callback, took it)."""
    values: dict[str, Any] = {"status": SENT, "attempts": attempts}
    if detail is not None:
        values["detail"] = detail
    if next_at is not None:
        values["next_at"] = next_at
    return _change(conn, id, (QUEUED,), **values)


def requeue(conn: Connection, *, id: int, next_at: datetime, detail: dict[str, Any] | None = None) -> bool:
    """A started task goes back to the queue, due again at `next_at` (a call nobody answered, a
    provider that failed). False when it is not sent."""
    values: dict[str, Any] = {"status": QUEUED, "next_at": next_at}
    if detail is not None:
        values["detail"] = detail
    return _change(conn, id, (SENT,), **values)


def mark_done(conn: Connection, *, id: int, outcome: str, detail: dict[str, Any] | None = None) -> bool:
    """The task's outcome: done (or failed, when the outcome is `failed`). False when it had
    already ended."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    status = FAILED if outcome == "failed" else DONE
    return _change(conn, id, OPEN_STATUSES, status=status, outcome=outcome, detail=detail)


def mark_failed(conn: Connection, *, id: int, detail: dict[str, Any] | None = None) -> bool:
    """The task could not be done (outcome `failed`). False when it had already ended."""
    return mark_done(conn, id=id, outcome="failed", detail=detail)
