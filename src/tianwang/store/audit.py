"""The append-only audit log (`audit_log`): who did what to which target, and when.

The database refuses UPDATE and DELETE of these rows (triggers created by the migration).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from tianwang.store.schema import audit_log, utcnow


def append_audit(
    conn: Connection,
    *,
    tenant: str | None,
    actor: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one audit record and return its id."""
    stmt = (
        insert(audit_log)
        .values(
            at=utcnow(),
            tenant=tenant,
            actor=actor,
            action=action,
            target=target,
            detail=detail if detail is not None else {},
        )
        .returning(audit_log.c.id)
    )
    return conn.execute(stmt).scalar_one()


def list_audit(
    conn: Connection, *, tenant: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Audit records, newest first; pass the last id seen as `before_id` for the next page."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if tenant is not None:
        query = query.where(audit_log.c.tenant == tenant)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [dict(r) for r in conn.execute(query).mappings()]
