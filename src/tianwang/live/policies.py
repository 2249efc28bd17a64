"""The policy book: each tenant's live bundle, compiled, and how a new version goes live.

`reload()` makes each tenant's highest stored version live (publishing the shipped default
first for a tenant that has none); it is polled every two seconds and reads version numbers
only, loading and compiling a bundle just when a tenant's number moved. A version that brings
window streams the live one did not have fills them from the tenant's stored events first, so
its windows are right from its first decision. `published(tenant)`: a version just stored by
this process is live here at once, and in server mode on every replica at the same point of
the change log (the operation `policy`).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from tianwang.errors import PolicyError
from tianwang.policy import versions
from tianwang.policy.bundle import Bundle, compile_bundle
from tianwang.store import events as event_repo
from tianwang.store import policies as policy_repo
from tianwang.store import tenants as tenant_repo
from tianwang.variables.offline import backfill

if TYPE_CHECKING:
    from tianwang.live.memory import Live

log = logging.getLogger("tianwang")
DEFAULT_POLICY = Path(__file__).resolve().parents[3] / "policies" / "default"


class PolicyBook:
    """Tenant → (its live bundle, its version number)."""

    def __init__(self, live: Live, *, policy_dir: Path | None = None) -> None:
        self.live = live
        self.db = live.db
        self.policy_dir = policy_dir
        self._bundles: dict[str, tuple[Bundle, int | None]] = {}
        live.ops.register("policy", lambda tenant: self.reload())

    def bundle(self, tenant_id: str) -> tuple[Bundle, int | None]:
        """The tenant's live bundle and version (loaded now for a tenant made since the last poll)."""
        try:
            return self._bundles[tenant_id]
        except KeyError:
            self.reload()
            return self._bundles[tenant_id]

    def loaded(self, tenant_id: str) -> Bundle | None:
        """The tenant's live bundle if one is loaded (a replay of stored events skips the others)."""
        found = self._bundles.get(tenant_id)
        return found[0] if found is not None else None

    def reload(self) -> None:
        """Make each tenant's highest stored version live (see the module docstring)."""
        with self.db.connect() as conn:
            tenants = [r["id"] for r in tenant_repo.list_tenants(conn)]
            numbers = policy_repo.live_numbers(conn)
        for tenant_id in tenants:
            current = self._bundles.get(tenant_id)
            number = numbers.get(tenant_id)
            if current is not None and current[1] == number:
                continue
            if number is None:
                number, bundle = self._publish_default(tenant_id)
            else:
                with self.db.connect() as conn:
                    head = policy_repo.get_version(conn, tenant=tenant_id, version=number)
                bundle = compile_bundle(head["files"])
            with self.live.locked():
                self._backfill_new_streams(tenant_id, bundle)
                self._bundles[tenant_id] = (bundle, number)
            log.info("tenant %s: policy version %s live", tenant_id, number)

    def published(self, tenant_id: str) -> None:
        """A version was just stored by this process: live here at once, and in server mode on every
        replica at this point of the change log (not up to two seconds later, by the poll)."""
        with self.live.locked():
            self.reload()
            self.live.changes.note(tenant_id, "policy")
            self.live.changes.publish()

    def _publish_default(self, tenant_id: str) -> tuple[int, Bundle]:
        folder = self.policy_dir or DEFAULT_POLICY
        try:
            with self.db.begin() as conn:
                return versions.publish_folder(conn, tenant=tenant_id, folder=folder, actor="system", note="first start")
        except PolicyError:  # another process published it first, or the folder is not a valid bundle
            with self.db.connect() as conn:
                head = versions.live(conn, tenant=tenant_id)
            if head is None:
                raise
            return head["version"], compile_bundle(head["files"])

    def _backfill_new_streams(self, tenant_id: str, bundle: Bundle) -> None:
        live = self.live
        if tenant_id not in self._bundles or live.writer is None:
            return
        old = {s.id for s in self._bundles[tenant_id][0].streams}
        fresh = bundle.streams.subset(s.id for s in bundle.streams if s.id not in old)
        if len(fresh):
            live.writer.flush()
            records = (row["payload"] for row in event_repo.iter_events(self.db, tenant=tenant_id))
            with live.state.bulk() if live.shared else nullcontext():  # replicas each fill it: appends are idempotent
                n = backfill(fresh, records, state=live.state, tenant_of=lambda _: tenant_id)
            log.info("tenant %s: %d new window streams filled from %d stored events", tenant_id, len(fresh), n)
