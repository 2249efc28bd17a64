"""Black / grey / white list entries (`list_entries`): upsert, delete, read all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.store.schema import list_entries, utcnow

LIST_TYPES = ("black", "grey", "white")
_UPDATED_ON_CONFLICT = ("reason", "source", "expires_at")


def upsert_entries(conn: Connection, *, tenant: str, entries: list[dict[str, Any]]) -> int:
    """Insert entries, or update reason/source/expires_at of those listed; returns how many keys.

    Each entry has list_type, entity, value and optionally reason, source, expires_at (epoch
    ms), created_by.
    """
    if not entries:
        return 0
    now = utcnow()
    # The last of several entries for one key wins (PostgreSQL refuses to upsert a row twice).
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for e in entries:
        if e["list_type"] not in LIST_TYPES:
            raise ValueError(f"list_type must be one of {LIST_TYPES}, not {e['list_type']!r}")
        rows[(e["list_type"], e["entity"], e["value"])] = {
            "tenant": tenant,
            "list_type": e["list_type"],
            "entity": e["entity"],
            "value": e["value"],
            "reason": e.get("reason") or "",
            "source": e.get("source") or "",
            "expires_at": e.get("expires_at"),
            "created_at": now,
            "created_by": e.get("created_by") or "",
        }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(list_entries)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant", "list_type", "entity", "value"],
        set_={name: stmt.excluded[name] for name in _UPDATED_ON_CONFLICT},
    )
    conn.execute(stmt, list(rows.values()))
    return len(rows)


def delete_entry(conn: Connection, *, tenant: str, list_type: str, entity: str, value: str) -> bool:
    """Remove one entry; False when it was not listed."""
    result = conn.execute(
        delete(list_entries).where(
            list_entries.c.tenant == tenant,
            list_entries.c.list_type == list_type,
            list_entries.c.entity == entity,
            list_entries.c.value == value,
        )
    )
    return result.rowcount > 0


def all_entries(conn: Connection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    """Every entry (of one tenant, or of all), expired ones included, in insertion order."""
    query = select(list_entries).order_by(list_entries.c.id)
    if tenant is not None:
        query = query.where(list_entries.c.tenant == tenant)
    return [dict(r) for r in conn.execute(query).mappings()]
