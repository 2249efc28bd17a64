"""Tenants (one per lender): made, found by key or id, the demo tenant ensured; their webhook and
their console users.

A key is stored only as its SHA-256 (`hash_key`). `Directory` answers the edge's "whose key is
this?" from memory, reloading at most once a second on a miss, so a tenant made by another
process is found without letting a flood of wrong keys become a flood of database reads.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tianwang.errors import Conflict, NotFound
from tianwang.store import audit as audit_repo
from tianwang.store import tenants as tenant_repo
from tianwang.store import users as user_repo

TENANT_ID = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    return f"tw_{secrets.token_urlsafe(24)}"


def create(*, db: Any, tenant_id: str, name: str, actor: str) -> str:
    """Make a tenant and return its API key (shown once). ValueError for a bad id, Conflict when it exists."""
    if not TENANT_ID.match(tenant_id):
        raise ValueError("lower-case letters, digits, - and _, starting with a letter")
    key = new_key()
    with db.begin() as conn:
        if tenant_repo.get_tenant(conn, id=tenant_id) is not None:
            raise Conflict(f"tenant {tenant_id} exists")
        tenant_repo.create_tenant(conn, id=tenant_id, name=name, api_key_hash=hash_key(key))
        audit_repo.append_audit(conn, tenant=tenant_id, actor=actor, action="tenant.create", target=tenant_id, detail={})
    return key


def ensure_demo(*, db: Any, api_key: str | None) -> str | None:
    """The tenant `demo` exists (with `api_key` when one is set); its key when it was made just now
    with a generated one (a configured key is the operator's already, and never printed)."""
    with db.begin() as conn:
        if tenant_repo.get_tenant(conn, id="demo") is not None:
            if api_key:
                tenant_repo.set_api_key_hash(conn, id="demo", api_key_hash=hash_key(api_key))
            return None
        key = api_key or new_key()
        try:
            tenant_repo.create_tenant(conn, id="demo", name="Demo lender", api_key_hash=hash_key(key))
        except Conflict:  # another replica starting at the same moment made it first
            if api_key:
                tenant_repo.set_api_key_hash(conn, id="demo", api_key_hash=hash_key(key))
            return None
        audit_repo.append_audit(conn, tenant="demo", actor="system", action="tenant.create", target="demo", detail={})
        return None if api_key else key


def set_webhook(*, db: Any, tenant_id: str, url: str | None, secret: str | None, actor: str) -> None:
    """Set (or, with None, remove) the URL the tenant's notifications are posted to and their
    signing secret, with an audit record; NotFound for an unknown tenant."""
    with db.begin() as conn:
        tenant_repo.set_webhook(conn, id=tenant_id, url=url, secret=secret)
        audit_repo.append_audit(conn, tenant=tenant_id, actor=actor, action="tenant.webhook", target=tenant_id,
                                detail={"url": url})


def add_user(*, db: Any, tenant: str, username: str, password_hash: str, role: str, actor: str) -> None:
    """A console user of the tenant, with an audit record; NotFound for an unknown tenant,
    Conflict when the name is taken."""
    with db.begin() as conn:
        if tenant_repo.get_tenant(conn, id=tenant) is None:
            raise NotFound(f"no tenant {tenant!r}")
        user_repo.create_user(conn, tenant=tenant, username=username, password_hash=password_hash, role=role)
        audit_repo.append_audit(conn, tenant=tenant, actor=actor, action="users.add", target=f"user:{username}",
                                detail={"role": role})


class Directory:
    """The tenants by API key and by id, from memory (see the module docstring)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._by_key: dict[str, Tenant] = {}
        self._loaded_at = 0.0

    def reload(self) -> None:
        with self.db.connect() as conn:
            rows = tenant_repo.list_tenants(conn)
        self._by_key = {r["api_key_hash"]: Tenant(r["id"], r["name"]) for r in rows}
        self._loaded_at = time.monotonic()

    def by_id(self, tenant_id: str) -> Tenant | None:
        """A tenant by its id (the public `site` of the SDK's beacons), or None."""
        for t in self._by_key.values():
            if t.id == tenant_id:
                return t
        if time.monotonic() - self._loaded_at > 1.0:
            self.reload()
            return next((t for t in self._by_key.values() if t.id == tenant_id), None)
        return None

    def by_key(self, api_key: str) -> Tenant | None:
        found = self._by_key.get(hash_key(api_key))
        # A tenant created by another process since we last looked: reload, at most once a
        # second, so a flood of wrong keys cannot turn into a flood of database reads.
        if found is None and time.monotonic() - self._loaded_at > 1.0:
            self.reload()
            found = self._by_key.get(hash_key(api_key))
        return found
