"""The outbox (`outbox`): notifications to the lending system, stored with what caused them.

A row is written in the same transaction as the change it tells of (a revised decision, a
released hold, a flagged ring), so a notification exists if and only if its change was
committed. The delivery worker (`delivery/webhooks.py`) posts pending rows to the tenant's
webhook and marks them delivered, or retries them later, or gives up (`dead`); a lending
system without a webhook reads the same rows with `GET /v1/notifications`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.store.schema import outbox, utcnow

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def add(conn: Connection, *, tenant: str, topic: str, key: str, payload: dict[str, Any]) -> None:
    """Queue one notification; a second one with the same (tenant, key) is not added."""
    now = utcnow()
    row = {"tenant": tenant, "topic": topic, "key": key, "payload": payload, "created_at": now,
           "status": PENDING, "attempts": 0, "next_at": now}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(outbox).values(row).on_conflict_do_nothing())


def due(conn: Connection, *, now: datetime, limit: int = 100,
        tenants: list[str] | None = None) -> list[dict[str, Any]]:
    """Pending notifications whose next attempt is due, oldest first; with `tenants`, only theirs.

    A row is not due while an older pending row of its tenant waits for a later retry, so each
    tenant's notifications are delivered in order.
    """
    if tenants is not None and not tenants:
        return []
    older = outbox.alias("older")
    waiting = exists().where(older.c.tenant == outbox.c.tenant, older.c.id < outbox.c.id,
                             older.c.status == PENDING, older.c.next_at > now)
    query = (select(outbox).where(outbox.c.status == PENDING, outbox.c.next_at <= now, ~waiting)
             .order_by(outbox.c.id).limit(limit))
    if tenants is not None:
        query = query.where(outbox.c.tenant.in_(tenants))
    return [dict(r) for r in conn.execute(query).mappings()]


def mark_delivered(conn: Connection, *, id: int, attempts: int) -> None:
    conn.execute(update(outbox).where(outbox.c.id == id).values(
        status=DELIVERED, attempts=attempts, delivered_at=utcnow(), last_error=None))


def mark_failed(conn: Connection, *, id: int, attempts: int, next_at: datetime, error: str, dead: bool) -> None:
    """One attempt failed: try again at `next_at`, or never (`dead`)."""
    conn.execute(update(outbox).where(outbox.c.id == id).values(
        status=DEAD if dead else PENDING, attempts=attempts, next_at=next_at, last_error=error[:512]))


def notifications(conn: Connection, *, tenant: str, after_id: int = 0, limit: int = 100,
                  topic: str | None = None) -> list[dict[str, Any]]:
    """A tenant's notifications after `after_id`, oldest first (the pull alternative to a webhook)."""
    query = select(outbox).where(outbox.c.tenant == tenant, outbox.c.id > after_id).order_by(outbox.c.id).limit(limit)
    if topic is not None:
        query = query.where(outbox.c.topic == topic)
    return [dict(r) for r in conn.execute(query).mappings()]
