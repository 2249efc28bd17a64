"""Policy versions: publish, rollback and diff, each recorded in the audit log.

Publishing validates first: a bundle that does not compile is never stored, and the live
version stays. The live version of a tenant is its highest; a rollback publishes an
earlier version's files again as a new version, so history only grows.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from tianwang.errors import NotFound, PolicyError
from tianwang.policy.bundle import Bundle, checksum, compile_bundle, read_files
from tianwang.store import audit as audit_repo
from tianwang.store import policies as policy_repo


def live(conn: Connection, *, tenant: str) -> dict[str, Any] | None:
    """The tenant's live version row (with its files), or None before the first publish."""
    return policy_repo.latest_version(conn, tenant=tenant)


def publish_files(conn: Connection, *, tenant: str, files: dict[str, str], actor: str, note: str = "") -> tuple[int, Bundle]:
    """Validate, compile and store a bundle as the tenant's next version."""
    bundle = compile_bundle(files)
    policy_repo.lock_tenant(conn, tenant=tenant)  # what is live is read after any publish under way
    current = live(conn, tenant=tenant)
    if current is not None and current["checksum"] == bundle.checksum:
        raise PolicyError("", f"identical to the live version {current['version']}: nothing to publish")
    version = policy_repo.insert_version(
        conn, tenant=tenant, name=bundle.name, checksum=bundle.checksum, files=files, note=note, published_by=actor
    )
    audit_repo.append_audit(
        conn,
        tenant=tenant,
        actor=actor,
        action="policy.publish",
        target=f"{bundle.name}@{version}",
        detail={"checksum": bundle.checksum, "note": note, "summary": bundle.summary()},
    )
    return version, bundle


def publish_folder(conn: Connection, *, tenant: str, folder: Path, actor: str, note: str = "") -> tuple[int, Bundle]:
    return publish_files(conn, tenant=tenant, files=read_files(folder), actor=actor, note=note)


def rollback(conn: Connection, *, tenant: str, actor: str, to: int | None = None) -> tuple[int, int]:
    """Publish version `to` (default: the one before the live one) again; returns (new, source)."""
    policy_repo.lock_tenant(conn, tenant=tenant)
    current = live(conn, tenant=tenant)
    if current is None:
        raise NotFound(f"tenant {tenant} has no policy version")
    if to is None:
        earlier = [v for v in policy_repo.list_versions(conn, tenant=tenant) if v["checksum"] != current["checksum"]]
        if not earlier:
            raise NotFound("there is no earlier, different version to roll back to")
        to = max(earlier, key=lambda v: v["version"])["version"]
    source = policy_repo.get_version(conn, tenant=tenant, version=to)
    if source is None:
        raise NotFound(f"version {to} does not exist for tenant {tenant}")
    version, _ = publish_files(conn, tenant=tenant, files=source["files"], actor=actor, note=f"rollback to version {to}")
    return version, to


def diff(old: dict[str, str], new: dict[str, str]) -> str:
    """A unified diff of two bundles' files, then a line per added, removed or changed name."""
    out: list[str] = []
    for rel in sorted(set(old) | set(new)):
        a, b = old.get(rel, ""), new.get(rel, "")
        if a != b:
            out.extend(
                difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"live/{rel}", f"new/{rel}")
            )
    if not out:
        return "no changes\n"
    return "".join(line if line.endswith("\n") else line + "\n" for line in out) + _names_summary(old, new)


def _names_summary(old: dict[str, str], new: dict[str, str]) -> str:
    if not old:
        try:
            s = compile_bundle(new).summary()
        except PolicyError as exc:
            return f"\n(the new bundle does not validate: {exc})\n"
        return f"\nsummary: no live version yet; this would be the first: {s['variables']} variables, {s['rules']} rules\n"
    try:
        a, b = compile_bundle(old), compile_bundle(new)
    except PolicyError as exc:
        return f"\n(the names could not be compared: {exc})\n"
    lines = []
    for kind, left, right in (
        ("variable", {d.name: d for d in a.variables}, {d.name: d for d in b.variables}),
        ("rule", _rules(a), _rules(b)),
    ):
        for name in sorted(set(right) - set(left)):
            lines.append(f"+ {kind} {name}")
        for name in sorted(set(left) - set(right)):
            lines.append(f"- {kind} {name}")
        for name in sorted(set(left) & set(right)):
            if left[name] != right[name]:
                lines.append(f"~ {kind} {name}")
    return "\nsummary:\n" + "\n".join(lines) + "\n" if lines else ""


def _rules(bundle: Bundle) -> dict[str, Any]:
    return {
        f"{s.name}.{r.code}": (r.condition.source, r.outcome, r.score, r.reason, r.interventions, r.delay_ms)
        for s in bundle.strategies
        for r in s.rules
    }


__all__ = ["live", "publish_files", "publish_folder", "rollback", "diff", "checksum"]
