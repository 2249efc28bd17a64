"""What an investigator does with a case: assign it, move it on, write notes, look at it, decide it.

Every action writes an audit record (`case.assign`, `case.status`, `case.note`, `case.dispose`;
actor = the user name) in the transaction of its change, and a status change a `status` note, so
a case's notes are its timeline. Statuses go open → investigating → closed; a case is closed by a
disposition (`dispose`) or with a reason (`set_status(..., "closed", reason=...)`); only an
admin-level caller may reopen a closed case (and only while its subject has no other open case).

`dispose` decides the case:
- **fraud**: the subject's customers go on the black list (entity `customer`, source
  `case:<id>`, through lists.service so the running lists and network see them at once); every
  stored event of theirs is labelled with the fraud type; a ring subject is disposed fraud
  (`cases.rings.dispose_ring`: its members' held events re-decided to reject, the reverse
  notification), a customer subject's held events are re-decided to reject one by one
  (`holds.service.resolve_hold`);
- **not_fraud**: the events are labelled `normal`, a ring subject is disposed not_fraud (its
  marks cleared), and the customers' held events are released (`resolve_hold(..., "pass")`).
It runs under `live.quiesced()` (so no event slips between what it reads and what it changes). The
list, the ring and the holds are changed first, each in its own transaction; the case is closed
last, with its labels, note and audit record, in one: if anything fails the case stays open and
the disposition can be given again (each step repeats harmlessly).

Errors: NotFound for an unknown case (another tenant's too), Conflict for a transition that is not
allowed or a case already closed, ValueError for bad input.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from tianwang.cases.rings import DISPOSITIONS, dispose_ring
from tianwang.decision.outcomes import FRAUD_TYPES
from tianwang.errors import Conflict, NotFound
from tianwang.holds.service import resolve_hold
from tianwang.lists import service as list_service
from tianwang.store import audit as audit_repo
from tianwang.store import cases as repo
from tianwang.store import users as users_repo
from tianwang.store.cases import CLOSED, INVESTIGATING, OPEN, OPEN_STATUSES, STATUSES
from tianwang.store.schema import json_dumps, utcnow

if TYPE_CHECKING:
    from tianwang.events import Hasher
    from tianwang.live.memory import Live
    from tianwang.metrics import Metrics

NOTE_KINDS = ("note", "evidence")  # what a person writes; `status` notes are written by the actions
MAX_TEXT = 4000
MAX_DATA = 16_000  # characters of a note's data, as JSON
# The roles that work cases (console/auth.py, permission cases:work): who a case may be assigned to.
OWNER_ROLES = ("investigator", "admin")
_FORWARD = {(OPEN, INVESTIGATING), (OPEN, CLOSED), (INVESTIGATING, CLOSED)}


# ---------------------------------------------------------------------------- reading


def list_cases(*, db: Any, tenant: str, status: str | None = None, owner: str | None = None,
               subject: str | None = None, after: int | None = None, before: int | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
    """A page of the tenant's cases, highest priority first (store.cases.list_cases; `subject`
    is a customer or ring id)."""
    with db.connect() as conn:
        return repo.list_cases(conn, tenant=tenant, status=status, owner=owner, subject_id=subject, after=after,
                               before=before, limit=limit)


def case_detail(*, live: Live, tenant: str, case_id: int) -> dict[str, Any]:
    """The case, its alerts, its notes, the subject's customers with their held events, and the
    ring's current members when the subject is a ring (None when the ring is gone)."""
    with live.db.connect() as conn:
        found = _case(conn, tenant, case_id)
        alerts = repo.alerts_of(conn, tenant=tenant, case_id=case_id)
        notes = repo.notes_of(conn, tenant=tenant, case_id=case_id)
    with live.locked():  # the network and the holds change under the walk
        members = _members(live, tenant, found)
        customers = _customers(found, alerts, members)
        book = live.holds(tenant)
        held = [_hold(h) for cid in customers for h in book.of(cid)]
    ring = {"ring_id": found["subject_id"], "members": members} if found["subject_kind"] == "ring" else None
    return {"case": found, "alerts": alerts, "notes": notes, "customers": customers, "held": held, "ring": ring}


# ---------------------------------------------------------------------------- actions


def assign(*, db: Any, tenant: str, case_id: int, owner: str | None, actor: str) -> dict[str, Any]:
    """Give the case to `owner` (an enabled investigator or admin of the tenant; None: nobody).
    Conflict when the case is closed. The case as it is now."""
    actor = _actor(actor)
    if owner is not None:
        if not isinstance(owner, str) or not owner.strip():
            raise ValueError("owner: a user name, or None to unassign")
        owner = owner.strip()
    with db.begin() as conn:
        found = _case(conn, tenant, case_id)
        if found["status"] == CLOSED:
            raise Conflict(f"case {case_id} is closed: reopen it before assigning it")
        if owner is not None:
            user = users_repo.get_user(conn, tenant=tenant, username=owner)
            if user is None or user["disabled"] or user["role"] not in OWNER_ROLES:
                raise ValueError(f"owner: {owner!r} is not an enabled investigator or admin of this tenant")
        if not repo.update_case(conn, tenant=tenant, case_id=case_id, when_status=OPEN_STATUSES, owner=owner):
            raise Conflict(f"case {case_id} was closed meanwhile")
        change = {"from": found["owner"], "to": owner}
        repo.add_note(conn, tenant=tenant, case_id=case_id, author=actor, kind="status",
                      text=f"assigned to {owner}" if owner else "unassigned", data=change)
        audit_repo.append_audit(conn, tenant=tenant, actor=actor, action="case.assign", target=f"case:{case_id}",
                                detail=change)
        return repo.get_case(conn, tenant=tenant, case_id=case_id)


def set_status(*, db: Any, tenant: str, case_id: int, status: str, actor: str, reason: str | None = None,
               admin: bool = False) -> dict[str, Any]:
    """Move the case on: open → investigating → closed. Closing here needs a `reason` (no
    disposition: a duplicate, a test); closed → open only when `admin` (the caller's role says
    so) and no other case of the subject is open. Any other move is a Conflict."""
    actor = _actor(actor)
    if status not in STATUSES:
        raise ValueError(f"status: one of {', '.join(STATUSES)}")
    if reason is not None:
        reason = _text(reason, "reason")
    with db.begin() as conn:
        found = _case(conn, tenant, case_id)
        current = found["status"]
        if current == status:
            raise Conflict(f"case {case_id} is already {status}")
        values: dict[str, Any] = {"status": status}
        if (current, status) in _FORWARD:
            if status == CLOSED:
                if reason is None:
                    raise ValueError("reason: say why the case is closed without a disposition (or dispose it)")
                values["closed_at"] = utcnow()
        elif (current, status) == (CLOSED, OPEN):
            if not admin:
                raise Conflict(f"case {case_id} is closed: only an admin may reopen it")
            other = repo.open_case_of(conn, tenant=tenant, subject_kind=found["subject_kind"],
                                      subject_id=found["subject_id"])
            if other is not None:
                raise Conflict(f"case {other['id']} of the same {found['subject_kind']} is open: work that one")
            values.update(disposition=None, fraud_type=None, closed_at=None)
        else:
            raise Conflict(f"case {case_id} cannot go from {current} to {status}")
        if not repo.update_case(conn, tenant=tenant, case_id=case_id, when_status=(current,), **values):
            raise Conflict(f"case {case_id} changed meanwhile: look again")
        change = {"from": current, "to": status, "reason": reason}
        repo.add_note(conn, tenant=tenant, case_id=case_id, author=actor, kind="status",
                      text=f"{current} → {status}" + (f": {reason}" if reason else ""), data=change)
        audit_repo.append_audit(conn, tenant=tenant, actor=actor, action="case.status", target=f"case:{case_id}",
                                detail=change)
        return repo.get_case(conn, tenant=tenant, case_id=case_id)


def add_note(*, db: Any, tenant: str, case_id: int, text: str, kind: str = "note", actor: str,
             data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a note or a piece of evidence on a case (a closed one too: evidence comes late).
    `text`: 1..4000 characters, no control characters but newline and tab; `data`: a JSON object."""
    actor = _actor(actor)
    if kind not in NOTE_KINDS:
        raise ValueError(f"kind: one of {', '.join(NOTE_KINDS)}")
    text = _text(text, "text")
    if data is not None:
        if not isinstance(data, dict):
            raise ValueError("data: a JSON object, or nothing")
        try:
            size = len(json_dumps(data))
        except TypeError as exc:
            raise ValueError(f"data: not JSON ({exc})") from None
        if size > MAX_DATA:
            raise ValueError(f"data: at most {MAX_DATA} characters as JSON")
    with db.begin() as conn:
        _case(conn, tenant, case_id)
        note_id = repo.add_note(conn, tenant=tenant, case_id=case_id, author=actor, kind=kind, text=text, data=data)
        audit_repo.append_audit(conn, tenant=tenant, actor=actor, action="case.note", target=f"case:{case_id}",
                                detail={"note_id": note_id, "kind": kind, "chars": len(text)})
        return next(n for n in repo.notes_of(conn, tenant=tenant, case_id=case_id) if n["id"] == note_id)


def dispose(*, live: Live, metrics: Metrics, hasher: Hasher, tenant: str, case_id: int, disposition: str,
            fraud_type: str | None, note: str, actor: str) -> dict[str, Any]:
    """Decide and close the case (see the module docstring). Returns what was done: the case,
    its customers, those blacklisted, how many labels were written, the held events re-decided
    to reject (`revised`) and released (`released`)."""
    actor = _actor(actor)
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition: one of {', '.join(DISPOSITIONS)}")
    if disposition == "fraud" and fraud_type not in FRAUD_TYPES:
        raise ValueError(f"fraud_type: one of {', '.join(FRAUD_TYPES)} (what the events are labelled)")
    if disposition == "not_fraud" and fraud_type is not None:
        raise ValueError("fraud_type: only with disposition fraud")
    note = _text(note, "note")
    fraud = disposition == "fraud"
    source = f"case:{case_id}"
    with live.quiesced():  # every event accepted so far is stored (its alerts and its labels too)
        with live.db.connect() as conn:
            found = _case(conn, tenant, case_id)
            alerts = repo.alerts_of(conn, tenant=tenant, case_id=case_id)
        if found["status"] == CLOSED:
            raise Conflict(f"case {case_id} is already closed ({found['disposition'] or 'no disposition'})")
        members = _members(live, tenant, found)
        customers = _customers(found, alerts, members)
        blacklisted: list[str] = []
        if fraud and customers:
            why = f"case {case_id}, {fraud_type}: {note}"[:512]
            list_service.add_entries(live=live, hasher=hasher, tenant=tenant, actor=actor, raw_entries=[
                {"list_type": "black", "entity": "customer", "value": cid, "reason": why, "source": source}
                for cid in customers])
            blacklisted = list(customers)
        revised: list[str] = []
        released: list[str] = []
        if members is not None:  # the ring: its disposition on record (fraud re-decides its members' holds)
            done = dispose_ring(live=live, metrics=metrics, tenant=tenant, ring_id=found["subject_id"],
                                disposition=disposition, actor=actor, note=note, fraud_type=fraud_type)
            revised.extend(done["revised"])
        book = live.holds(tenant)
        for cid in customers:
            for hold in book.of(cid):
                resolve_hold(live=live, metrics=metrics, tenant=tenant, event_id=hold.event_id,
                             outcome="reject" if fraud else "pass", actor=actor, note=f"case {case_id}: {note}")
                (revised if fraud else released).append(hold.event_id)
        summary = {"disposition": disposition, "fraud_type": fraud_type, "note": note, "customers": customers,
                   "blacklisted": blacklisted, "revised": revised, "released": released}
        with live.db.begin() as conn:
            written = repo.label_events_of(conn, tenant=tenant, customer_ids=customers,
                                           label=fraud_type if fraud else "normal", source=source)
            summary["labels"] = written
            if not repo.update_case(conn, tenant=tenant, case_id=case_id, when_status=OPEN_STATUSES, status=CLOSED,
                                    disposition=disposition, fraud_type=fraud_type, closed_at=utcnow()):
                raise Conflict(f"case {case_id} was closed meanwhile")
            repo.add_note(conn, tenant=tenant, case_id=case_id, author=actor, kind="status",
                          text=f"{found['status']} → closed, {disposition}: {note}", data=summary)
            audit_repo.append_audit(conn, tenant=tenant, actor=actor, action="case.dispose",
                                    target=f"case:{case_id}", detail=summary)
            closed = repo.get_case(conn, tenant=tenant, case_id=case_id)
    return {"case": closed, **summary}


# ---------------------------------------------------------------------------- helpers


def _case(conn, tenant: str, case_id: int) -> dict[str, Any]:
    if isinstance(case_id, bool) or not isinstance(case_id, int):
        raise ValueError("case_id: an integer")
    found = repo.get_case(conn, tenant=tenant, case_id=case_id)
    if found is None:
        raise NotFound(f"no case {case_id}")
    return found


def _members(live: Live, tenant: str, found: dict[str, Any]) -> list[str] | None:
    """A ring subject's current members (None: not a ring, or the ring is gone)."""
    if found["subject_kind"] != "ring":
        return None
    return live.network(tenant).members_of(found["subject_id"])


def _customers(found: dict[str, Any], alerts: list[dict[str, Any]], members: list[str] | None) -> list[str]:
    """The subject's customers: the customer; a ring's members (a ring gone: its alerts' customers)."""
    if found["subject_kind"] == "customer":
        return [found["subject_id"]]
    if members is not None:
        return list(members)
    return sorted({a["customer_id"] for a in alerts if a["customer_id"]})


def _hold(hold) -> dict[str, Any]:
    return {"event_id": hold.event_id, "customer_id": hold.customer_id, "scene": hold.scene,
            "outcome": hold.outcome, "ts": hold.ts, "until": hold.until}


def _actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor.strip()) > 64:
        raise ValueError("actor: the user's name, 1..64 characters")
    return actor.strip()


def _text(text: Any, name: str) -> str:
    """Text a person wrote: 1..4000 characters, no control characters but newline and tab
    (a CR LF or lone CR, as browsers send, becomes a newline)."""
    if not isinstance(text, str):
        raise ValueError(f"{name}: text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError(f"{name}: must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{name}: at most {MAX_TEXT} characters (got {len(text)})")
    bad = next((c for c in text if c not in "\n\t" and unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(f"{name}: control character U+{ord(bad):04X} is not allowed (only newline and tab)")
    return text
