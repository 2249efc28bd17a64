"""List changes: validated, stored with an audit record, then visible to the walk at once.

The entries are checked and normalised by lists/index.py (personal values hashed with the
platform's `hasher`); once stored they go into the live list index under the lock and, in
server mode, to every replica through the change log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tianwang.errors import NotFound
from tianwang.lists.index import ListError, normalise_entry, parse_csv
from tianwang.store import audit as audit_repo
from tianwang.store import lists as list_repo

if TYPE_CHECKING:
    from tianwang.events import Hasher
    from tianwang.live.memory import Live


def add_entries(*, live: Live, hasher: Hasher, tenant: str, raw_entries: list[Any], actor: str) -> int:
    """Store entries (all or nothing: any bad entry refuses the lot, naming each)."""
    entries, errors = [], []
    for i, raw in enumerate(raw_entries):
        if not isinstance(raw, dict):
            errors.append((f"entries[{i}]", "must be an object"))
            continue
        try:
            entries.append(normalise_entry(raw, hasher=hasher, where=f"entries[{i}]"))
        except ListError as exc:
            errors.extend(exc.errors)
    seen: dict[tuple, int] = {}
    for i, e in enumerate(entries):
        key = (e["list_type"], e["entity"], e["value"])
        if key in seen:
            errors.append((f"entries[{i}].value", f"the same value is already in entries[{seen[key]}]"))
        seen.setdefault(key, i)
    if errors:
        raise ListError(errors)
    return _store(live, tenant=tenant, entries=entries, actor=actor, how="api")


def import_csv(*, live: Live, hasher: Hasher, tenant: str, path: Path, actor: str) -> int:
    """Import a CSV file of entries; a bad line refuses the whole file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ListError([(str(path), "is not UTF-8 text")]) from None
    entries = parse_csv(text, hasher=hasher)
    if not entries:
        raise ListError([(str(path), "has no entries")])
    return _store(live, tenant=tenant, entries=entries, actor=actor, how=f"import {Path(path).name}")


def _store(live: Live, *, tenant: str, entries: list[dict], actor: str, how: str) -> int:
    for e in entries:
        e["created_by"] = actor
    with live.db.begin() as conn:
        list_repo.upsert_entries(conn, tenant=tenant, entries=entries)
        counts: dict[str, int] = {}
        for e in entries:
            counts[e["list_type"]] = counts.get(e["list_type"], 0) + 1
        audit_repo.append_audit(conn, tenant=tenant, actor=actor, action="lists.add", target=how, detail=counts)
    with live.locked():
        for e in entries:
            live.lists.put(tenant, e)
            live.changes.note(tenant, "list.put", {k: e.get(k) for k in ("list_type", "entity", "value", "expires_at")})
        live.changes.publish()  # server mode: every replica's walk sees the entries
    return len(entries)


def entries(*, db: Any, tenant: str, list_type: str | None = None) -> list[dict]:
    """The tenant's entries (of one list type, or all), as the API shows them."""
    with db.connect() as conn:
        rows = list_repo.all_entries(conn, tenant=tenant)
    return [_public(r) for r in rows if list_type is None or r["list_type"] == list_type]


def remove_entry(*, live: Live, hasher: Hasher, tenant: str, list_type: str, entity: str, value: str,
                 actor: str) -> None:
    entry = normalise_entry(
        {"list_type": list_type, "entity": entity, "value": value, "reason": "removal"}, hasher=hasher
    )
    with live.db.begin() as conn:
        removed = list_repo.delete_entry(
            conn, tenant=tenant, list_type=entry["list_type"], entity=entry["entity"], value=entry["value"]
        )
        if not removed:
            raise NotFound(f"{value!r} is not on the {list_type} list of {entity}")
        audit_repo.append_audit(
            conn, tenant=tenant, actor=actor, action="lists.remove", target=f"{list_type}:{entity}", detail={"value": entry["value"]}
        )
    with live.locked():
        live.lists.remove(tenant, entry["list_type"], entry["entity"], entry["value"])
        live.changes.note(tenant, "list.remove", entry["list_type"], entry["entity"], entry["value"])
        live.changes.publish()


def _public(row: dict) -> dict:
    keep = ("list_type", "entity", "value", "reason", "source", "expires_at", "created_at", "created_by")
    out = {k: row.get(k) for k in keep}
    if out["created_at"] is not None:
        out["created_at"] = out["created_at"].isoformat()
    return out
