"""Published policy bundle versions (`policy_versions`); a tenant's live version is its highest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from tianwang.store.schema import policy_versions, utcnow

_SUMMARY = [c for c in policy_versions.c if c.name != "files"]


def lock_tenant(conn: Connection, *, tenant: str) -> None:
    """Hold the tenant's publishing lock until the transaction ends (PostgreSQL; SQLite writes one at
    a time anyway): two publishers, or replicas publishing the default at first start, read the live
    version one after the other."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"policy:{tenant}"})


def insert_version(
    conn: Connection,
    *,
    tenant: str,
    name: str,
    checksum: str,
    files: dict[str, str],
    note: str,
    published_by: str,
) -> int:
    """Store a bundle as the tenant's next version and return that version number."""
    lock_tenant(conn, tenant=tenant)  # two publishers of one tenant must not both read the same max(version)
    next_version = (
        select(func.coalesce(func.max(policy_versions.c.version), 0) + 1)
        .where(policy_versions.c.tenant == tenant)
        .scalar_subquery()
    )
    stmt = (
        insert(policy_versions)
        .values(
            tenant=tenant,
            version=next_version,
            name=name,
            checksum=checksum,
            files=files,
            note=note,
            published_at=utcnow(),
            published_by=published_by,
        )
        .returning(policy_versions.c.version)
    )
    return conn.execute(stmt).scalar_one()


def latest_version(conn: Connection, *, tenant: str) -> dict[str, Any] | None:
    """The tenant's live (highest) version with its files, or None if it never published."""
    row = conn.execute(
        select(policy_versions)
        .where(policy_versions.c.tenant == tenant)
        .order_by(policy_versions.c.version.desc())
        .limit(1)
    ).mappings().first()
    return dict(row) if row is not None else None


def live_numbers(conn: Connection) -> dict[str, int]:
    """Each tenant's highest version number: the cheap question a server polls."""
    rows = conn.execute(
        select(policy_versions.c.tenant, func.max(policy_versions.c.version)).group_by(policy_versions.c.tenant)
    )
    return {tenant: version for tenant, version in rows}


def get_version(conn: Connection, *, tenant: str, version: int) -> dict[str, Any] | None:
    """One version of the tenant's bundle with its files, or None."""
    row = conn.execute(
        select(policy_versions).where(
            policy_versions.c.tenant == tenant, policy_versions.c.version == version
        )
    ).mappings().first()
    return dict(row) if row is not None else None


def list_versions(conn: Connection, *, tenant: str) -> list[dict[str, Any]]:
    """The tenant's versions, newest first, without their files."""
    query = (
        select(*_SUMMARY)
        .where(policy_versions.c.tenant == tenant)
        .order_by(policy_versions.c.version.desc())
    )
    return [dict(r) for r in conn.execute(query).mappings()]
