"""Tenants (`tenants`) and the lookup of a tenant by the sha256 of its API key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.errors import Conflict, NotFound
from tianwang.store.schema import tenants, utcnow


def create_tenant(conn: Connection, *, id: str, name: str, api_key_hash: str) -> dict[str, Any]:
    """Create a tenant; Conflict when the id or the key hash is taken."""
    row = {"id": id, "name": name, "api_key_hash": api_key_hash, "created_at": utcnow(),
           "webhook_url": None, "webhook_secret": None}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # ON CONFLICT DO NOTHING instead of catching IntegrityError: the caller's transaction
    # stays usable (PostgreSQL would abort it) without a savepoint.
    stmt = dialect.insert(tenants).values(row).on_conflict_do_nothing().returning(tenants.c.id)
    if conn.execute(stmt).first() is None:
        raise Conflict(f"tenant {id!r} or its API key already exists")
    return row


def set_api_key_hash(conn: Connection, *, id: str, api_key_hash: str) -> None:
    """Give a tenant a new API key hash; NotFound for an unknown tenant, Conflict if it is taken."""
    owner = tenant_by_key_hash(conn, api_key_hash=api_key_hash)
    if owner is not None and owner["id"] != id:
        raise Conflict("this API key belongs to another tenant")
    result = conn.execute(update(tenants).where(tenants.c.id == id).values(api_key_hash=api_key_hash))
    if result.rowcount == 0:
        raise NotFound(f"no tenant {id!r}")


def set_webhook(conn: Connection, *, id: str, url: str | None, secret: str | None) -> None:
    """Set (or, with None, remove) the tenant's webhook URL and signing secret; NotFound for an unknown tenant."""
    result = conn.execute(update(tenants).where(tenants.c.id == id).values(webhook_url=url, webhook_secret=secret))
    if result.rowcount == 0:
        raise NotFound(f"no tenant {id!r}")


def tenant_by_key_hash(conn: Connection, *, api_key_hash: str) -> dict[str, Any] | None:
    """The tenant whose API key hashes to `api_key_hash`, or None."""
    row = conn.execute(select(tenants).where(tenants.c.api_key_hash == api_key_hash)).mappings().first()
    return dict(row) if row is not None else None


def get_tenant(conn: Connection, *, id: str) -> dict[str, Any] | None:
    """The tenant with this id, or None."""
    row = conn.execute(select(tenants).where(tenants.c.id == id)).mappings().first()
    return dict(row) if row is not None else None


def list_tenants(conn: Connection) -> list[dict[str, Any]]:
    """Every tenant, by id."""
    return [dict(r) for r in conn.execute(select(tenants).order_by(tenants.c.id)).mappings()]
