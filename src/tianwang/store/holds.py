"""Holds (`holds`): decisions that wait — a review or a step-up check for a person, a delayed payout
for a time — and how each ended (released or rejected, when, by whom, why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.store.schema import holds, utcnow

HELD, RELEASED, REJECTED = "held", "released", "rejected"


def add(conn: Connection, row: dict[str, Any]) -> None:
    """Store a new hold (tenant, event_id, customer_id, scene, outcome, ts, until_ts); a repeat is ignored."""
    values = {**row, "status": HELD, "created_at": utcnow()}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(holds).values(values).on_conflict_do_nothing())


def resolve(conn: Connection, *, tenant: str, event_id: str, status: str, final_outcome: str, ts: int,
            by: str, resolution: dict[str, Any]) -> bool:
    """End a held hold; False when it is not held (already ended, or unknown)."""
    result = conn.execute(
        update(holds)
        .where(holds.c.tenant == tenant, holds.c.event_id == event_id, holds.c.status == HELD)
        .values(status=status, final_outcome=final_outcome, resolved_ts=ts, resolved_by=by[:128],
                resolution=resolution, resolved_at=utcnow())
    )
    return result.rowcount == 1


def escalate(conn: Connection, *, tenant: str, event_id: str) -> bool:
    """A waiting delay whose end passed without a result: it now waits for a person (no end)."""
    result = conn.execute(update(holds).where(holds.c.tenant == tenant, holds.c.event_id == event_id,
                                              holds.c.status == HELD).values(until_ts=None))
    return result.rowcount == 1


def get(conn: Connection, *, tenant: str, event_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(holds).where(holds.c.tenant == tenant, holds.c.event_id == event_id)).mappings().first()
    return dict(row) if row is not None else None


def held(conn: Connection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    """Every hold still held (of one tenant, or of all), oldest first: what a restart reloads."""
    query = select(holds).where(holds.c.status == HELD).order_by(holds.c.id)
    if tenant is not None:
        query = query.where(holds.c.tenant == tenant)
    return [dict(r) for r in conn.execute(query).mappings()]


def rejected_customers(conn: Connection, *, tenant: str | None = None) -> list[tuple[str, str]]:
    """The (tenant, customer) pairs with a held event since re-decided to reject."""
    query = select(holds.c.tenant, holds.c.customer_id).where(holds.c.status == REJECTED)
    if tenant is not None:
        query = query.where(holds.c.tenant == tenant)
    return [tuple(r) for r in conn.execute(query.distinct()).all()]


def page(conn: Connection, *, tenant: str, status: str | None = None, customer_id: str | None = None,
         after_id: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """A tenant's holds after `after_id`, oldest first, optionally of one status or customer."""
    query = select(holds).where(holds.c.tenant == tenant, holds.c.id > after_id).order_by(holds.c.id).limit(limit)
    if status is not None:
        query = query.where(holds.c.status == status)
    if customer_id is not None:
        query = query.where(holds.c.customer_id == customer_id)
    return [dict(r) for r in conn.execute(query).mappings()]
