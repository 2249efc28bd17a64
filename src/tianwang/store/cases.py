"""Cases (`cases`), their alerts (`alerts`) and notes (`case_notes`), and event labels (`labels`).

A case is the work of an investigator on one subject, a customer or a ring; alerts (a review
decision, a flagged ring) join the open case of their subject. Every query names the tenant and
runs on an index: a case list on `ix_cases_tenant_status_priority` (or the owner's or subject's
index), a case's alerts and notes on their `(tenant, case_id)` indexes, a customer's events on
`ix_events_tenant_customer_ts`, labels and alerts on their unique keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, literal, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects import postgresql, sqlite

from tianwang.store.schema import alerts, case_notes, cases, events, labels, utcnow

OPEN, INVESTIGATING, CLOSED = "open", "investigating", "closed"
STATUSES = (OPEN, INVESTIGATING, CLOSED)
OPEN_STATUSES = (OPEN, INVESTIGATING)  # a case alerts still join
SUBJECT_KINDS = ("customer", "ring")
# What update_case may change (updated_at is always set).
_UPDATABLE = frozenset({"status", "owner", "disposition", "fraud_type", "priority", "closed_at"})


def _dialect(conn: Connection):
    return postgresql if conn.dialect.name == "postgresql" else sqlite


# ---------------------------------------------------------------------------- cases


def create_case(conn: Connection, *, tenant: str, subject_kind: str, subject_id: str, first_ts: int,
                priority: int = 0, alerts_count: int = 0, status: str = OPEN) -> int:
    """Store a new case of a subject (first and last alert at `first_ts`); its id."""
    if subject_kind not in SUBJECT_KINDS:
        raise ValueError(f"subject_kind must be one of {SUBJECT_KINDS}, not {subject_kind!r}")
    now = utcnow()
    stmt = cases.insert().values(
        tenant=tenant, subject_kind=subject_kind, subject_id=subject_id, status=status, priority=priority,
        alerts=alerts_count, first_ts=first_ts, last_ts=first_ts, created_at=now, updated_at=now,
    ).returning(cases.c.id)
    return conn.execute(stmt).scalar_one()


def get_case(conn: Connection, *, tenant: str, case_id: int) -> dict[str, Any] | None:
    """The tenant's case with this id, or None (another tenant's case is None too)."""
    row = conn.execute(select(cases).where(cases.c.tenant == tenant, cases.c.id == case_id)).mappings().first()
    return dict(row) if row is not None else None


def open_case_of(conn: Connection, *, tenant: str, subject_kind: str, subject_id: str) -> dict[str, Any] | None:
    """The subject's open (open or investigating) case, the newest if there were several, or None."""
    query = (
        select(cases)
        .where(cases.c.tenant == tenant, cases.c.subject_kind == subject_kind, cases.c.subject_id == subject_id,
               cases.c.status.in_(OPEN_STATUSES))
        .order_by(cases.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def list_cases(conn: Connection, *, tenant: str, status: str | None = None, owner: str | None = None,
               subject_kind: str | None = None, subject_id: str | None = None, after: int | None = None,
               before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """A page of the tenant's cases, highest priority first, then oldest (lowest id) first.

    `after`: the id of the last case of the previous page (the page that follows it in this
    order); `before`: the id of the first case of the current page (the page that precedes it).
    A cursor case that no longer matches the filters (or does not exist) gives an empty page.
    Each page is at most two index range scans: the rest of the cursor's priority, then the
    priorities below (above, for `before`)."""
    if after is not None and before is not None:
        raise ValueError("give after or before, not both")
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be 1..1000")
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    base = select(cases).where(cases.c.tenant == tenant)
    if status is not None:
        base = base.where(cases.c.status == status)
    if owner is not None:
        base = base.where(cases.c.owner == owner)
    if subject_id is not None:
        kinds = SUBJECT_KINDS if subject_kind is None else (subject_kind,)
        base = base.where(cases.c.subject_kind.in_(kinds), cases.c.subject_id == subject_id)
    elif subject_kind is not None:
        base = base.where(cases.c.subject_kind == subject_kind)
    cursor_id = after if after is not None else before
    if cursor_id is None:
        return _rows(conn, base.order_by(cases.c.priority.desc(), cases.c.id).limit(limit))
    cursor = conn.execute(base.with_only_columns(cases.c.priority).where(cases.c.id == cursor_id)).first()
    if cursor is None:
        return []
    p = cursor.priority
    if after is not None:
        rows = _rows(conn, base.where(cases.c.priority == p, cases.c.id > cursor_id).order_by(cases.c.id).limit(limit))
        if len(rows) < limit:
            rows += _rows(conn, base.where(cases.c.priority < p)
                          .order_by(cases.c.priority.desc(), cases.c.id).limit(limit - len(rows)))
        return rows
    rows = _rows(conn, base.where(cases.c.priority == p, cases.c.id < cursor_id)
                 .order_by(cases.c.id.desc()).limit(limit))
    if len(rows) < limit:
        rows += _rows(conn, base.where(cases.c.priority > p)
                      .order_by(cases.c.priority, cases.c.id.desc()).limit(limit - len(rows)))
    rows.reverse()
    return rows


def _rows(conn: Connection, query: Select) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(query).mappings()]


def update_case(conn: Connection, *, tenant: str, case_id: int, when_status: Iterable[str] | None = None,
                **values: Any) -> bool:
    """Change status, owner, disposition, fraud_type, priority or closed_at (and updated_at);
    only while the case's status is one of `when_status` when given. False when nothing matched."""
    unknown = set(values) - _UPDATABLE
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)} of a case")
    stmt = update(cases).where(cases.c.tenant == tenant, cases.c.id == case_id)
    if when_status is not None:
        stmt = stmt.where(cases.c.status.in_(tuple(when_status)))
    return conn.execute(stmt.values(**values, updated_at=utcnow())).rowcount == 1


def count_alert(conn: Connection, *, tenant: str, case_id: int, ts: int, priority: int) -> bool:
    """One more alert on an open case: alerts + 1, last_ts and priority raised to `ts` and
    `priority` if higher. False when the case is not open (closed meanwhile)."""
    stmt = (
        update(cases)
        .where(cases.c.tenant == tenant, cases.c.id == case_id, cases.c.status.in_(OPEN_STATUSES))
        .values(
            alerts=cases.c.alerts + 1,
            last_ts=sql_case((cases.c.last_ts < ts, ts), else_=cases.c.last_ts),
            priority=sql_case((cases.c.priority < priority, priority), else_=cases.c.priority),
            updated_at=utcnow(),
        )
    )
    return conn.execute(stmt).rowcount == 1


# ---------------------------------------------------------------------------- alerts


def add_alert(conn: Connection, row: dict[str, Any]) -> int | None:
    """Store an alert (tenant, kind, source, case_id, ts, reason, score, customer_id, ring_id);
    its id when new, None when (tenant, kind, source) was already stored."""
    stmt = (
        _dialect(conn).insert(alerts)
        .values({**row, "created_at": utcnow()})
        .on_conflict_do_nothing(index_elements=["tenant", "kind", "source"])
        .returning(alerts.c.id)
    )
    return conn.execute(stmt).scalar_one_or_none()


def alert_exists(conn: Connection, *, tenant: str, kind: str, source: str) -> bool:
    query = select(alerts.c.id).where(alerts.c.tenant == tenant, alerts.c.kind == kind, alerts.c.source == source)
    return conn.execute(query).first() is not None


def alerts_of(conn: Connection, *, tenant: str, case_id: int) -> list[dict[str, Any]]:
    """The case's alerts, in the order they were raised."""
    query = select(alerts).where(alerts.c.tenant == tenant, alerts.c.case_id == case_id).order_by(alerts.c.id)
    return _rows(conn, query)


# ---------------------------------------------------------------------------- notes


def add_note(conn: Connection, *, tenant: str, case_id: int, author: str, kind: str, text: str,
             data: dict[str, Any] | None = None) -> int:
    """Store a note (note, evidence, status, intervention) of a case; its id."""
    stmt = case_notes.insert().values(tenant=tenant, case_id=case_id, author=author, kind=kind, text=text,
                                      data=data, at=utcnow()).returning(case_notes.c.id)
    return conn.execute(stmt).scalar_one()


def notes_of(conn: Connection, *, tenant: str, case_id: int) -> list[dict[str, Any]]:
    """The case's notes, oldest first."""
    query = (select(case_notes).where(case_notes.c.tenant == tenant, case_notes.c.case_id == case_id)
             .order_by(case_notes.c.id))
    return _rows(conn, query)


# ---------------------------------------------------------------------------- labels


def add_labels(conn: Connection, *, tenant: str, event_ids: Iterable[str], label: str, source: str) -> int:
    """Label events (a fraud type, or normal); an event already labelled keeps its label.
    How many labels were written."""
    rows = [{"tenant": tenant, "event_id": e, "label": label, "source": source, "created_at": utcnow()}
            for e in dict.fromkeys(event_ids)]
    if not rows:
        return 0
    written = 0
    for start in range(0, len(rows), 500):  # SQLite binds at most 32,766 values a statement
        stmt = (_dialect(conn).insert(labels).values(rows[start:start + 500])
                .on_conflict_do_nothing(index_elements=["tenant", "event_id"]).returning(labels.c.id))
        written += len(conn.execute(stmt).all())
    return written


def label_events_of(conn: Connection, *, tenant: str, customer_ids: Iterable[str], label: str, source: str) -> int:
    """Label every stored event of these customers (one INSERT … SELECT on the customer index);
    an event already labelled keeps its label. How many labels were written."""
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    chosen = select(events.c.tenant, events.c.event_id).where(events.c.tenant == tenant, events.c.customer_id.in_(ids))
    chosen = chosen.add_columns(_literal(label, labels.c.label), _literal(source, labels.c.source),
                                _literal(utcnow(), labels.c.created_at))
    stmt = (
        _dialect(conn).insert(labels)
        .from_select(["tenant", "event_id", "label", "source", "created_at"], chosen)
        .on_conflict_do_nothing(index_elements=["tenant", "event_id"])
        .returning(labels.c.id)
    )
    return len(conn.execute(stmt).all())


def _literal(value: Any, column):
    return literal(value, type_=column.type)


def labels_of(conn: Connection, *, tenant: str, event_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """event_id → its label row, for those of these events that have one."""
    ids = sorted(set(event_ids))
    if not ids:
        return {}
    query = select(labels).where(labels.c.tenant == tenant, labels.c.event_id.in_(ids))
    return {r["event_id"]: r for r in _rows(conn, query)}


def event_ids_of(conn: Connection, *, tenant: str, customer_ids: Iterable[str]) -> list[str]:
    """The stored events of these customers, in time order (on the customer index)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    query = (select(events.c.event_id).where(events.c.tenant == tenant, events.c.customer_id.in_(ids))
             .order_by(events.c.ts, events.c.seq))
    return list(conn.execute(query).scalars())
