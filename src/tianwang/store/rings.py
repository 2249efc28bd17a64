"""Ring alerts (`ring_alerts`: a ring crossed a reverse trigger, once per ring and trigger) and
investigators' ring dispositions (`ring_dispositions`: fraud or not, with the members at the time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.store.schema import ring_alerts, ring_dispositions, utcnow


def add_alert(conn: Connection, row: dict[str, Any]) -> None:
    """Store an alert (tenant, ring_id, code, ts, event_id, members, measures); a repeat is ignored."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(ring_alerts).values({**row, "created_at": utcnow()}).on_conflict_do_nothing())


def alerts(conn: Connection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    query = select(ring_alerts).order_by(ring_alerts.c.id)
    if tenant is not None:
        query = query.where(ring_alerts.c.tenant == tenant)
    return [dict(r) for r in conn.execute(query).mappings()]


def add_disposition(conn: Connection, row: dict[str, Any]) -> int:
    """Store a disposition (tenant, ring_id, disposition, fraud_type, members, actor, note, ts); its id."""
    stmt = ring_dispositions.insert().values({**row, "created_at": utcnow()}).returning(ring_dispositions.c.id)
    return conn.execute(stmt).scalar_one()


def dispositions(conn: Connection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    """Dispositions in the order they were made (a later one about a customer wins)."""
    query = select(ring_dispositions).order_by(ring_dispositions.c.id)
    if tenant is not None:
        query = query.where(ring_dispositions.c.tenant == tenant)
    return [dict(r) for r in conn.execute(query).mappings()]
