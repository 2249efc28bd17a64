"""Console users (`users`): one per person, per tenant, with a role and a scrypt password hash."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.errors import Conflict, NotFound
from tianwang.store.schema import users, utcnow


def create_user(conn: Connection, *, tenant: str, username: str, password_hash: str, role: str) -> dict[str, Any]:
    """Create a user; Conflict when the name is taken in the tenant."""
    row = {"tenant": tenant, "username": username, "password_hash": password_hash, "role": role, "disabled": 0,
           "created_at": utcnow()}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(users).values(row).on_conflict_do_nothing().returning(users.c.id)
    if conn.execute(stmt).first() is None:
        raise Conflict(f"user {username!r} already exists in tenant {tenant!r}")
    return row


def get_user(conn: Connection, *, tenant: str, username: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.tenant == tenant, users.c.username == username)).mappings().first()
    return dict(row) if row is not None else None


def list_users(conn: Connection, *, tenant: str) -> list[dict[str, Any]]:
    query = select(users.c.username, users.c.role, users.c.disabled, users.c.created_at).where(users.c.tenant == tenant)
    return [dict(r) for r in conn.execute(query.order_by(users.c.username)).mappings()]


def set_user(conn: Connection, *, tenant: str, username: str, **values: Any) -> None:
    """Change a user's role, password_hash or disabled flag; NotFound for an unknown user."""
    result = conn.execute(update(users).where(users.c.tenant == tenant, users.c.username == username).values(**values))
    if result.rowcount == 0:
        raise NotFound(f"no user {username!r} in tenant {tenant!r}")
