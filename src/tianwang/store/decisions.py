"""Reads of decisions (`decisions`), alone or joined with their events; written by `store.writer`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from tianwang.store.schema import decisions, events

# The decision's own columns, beside the event's in a timeline row.
_DECISION_ONLY = [c for c in decisions.c if c.name not in {col.name for col in events.c}]


def get_decision(conn: Connection, *, tenant: str, event_id: str) -> dict[str, Any] | None:
    """The decision given to this event, or None."""
    row = conn.execute(
        select(decisions).where(decisions.c.tenant == tenant, decisions.c.event_id == event_id)
    ).mappings().first()
    return dict(row) if row is not None else None


def customer_timeline(
    conn: Connection,
    *,
    tenant: str,
    customer_id: str,
    limit: int = 100,
    before_ts: int | None = None,
    before_seq: int | None = None,
) -> list[dict[str, Any]]:
    """A customer's events joined with their decisions, newest first; keyset-paginated.

    Each row holds the event's columns and the decision's own (outcome, score, reasons, …; all
    None for an event without decision). Pass the last row's `ts` as `before_ts`, and its `seq`
    as `before_seq` so that events sharing that ts are not skipped, to get the next page.
    """
    query = (
        select(events, *_DECISION_ONLY)
        .select_from(
            events.outerjoin(
                decisions,
                and_(decisions.c.tenant == events.c.tenant, decisions.c.event_id == events.c.event_id),
            )
        )
        .where(events.c.tenant == tenant, events.c.customer_id == customer_id)
        .order_by(events.c.ts.desc(), events.c.seq.desc())
        .limit(limit)
    )
    if before_ts is not None and before_seq is not None:
        query = query.where(
            or_(events.c.ts < before_ts, and_(events.c.ts == before_ts, events.c.seq < before_seq))
        )
    elif before_ts is not None:
        query = query.where(events.c.ts < before_ts)
    return [dict(r) for r in conn.execute(query).mappings()]


_CUBE_COLS = [decisions.c[n] for n in ("seq", "tenant", "event_id", "scene", "ts", "outcome", "reasons", "fallback",
                                      "latency_us")]


def live_page(conn: Connection, *, tenant: str, outcome: str | None = None, after_seq: int | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    """The console's live page: the newest decisions (newest first), or those after `after_seq`
    (oldest first), optionally of one outcome."""
    cols = (decisions.c.seq, decisions.c.event_id, decisions.c.scene, decisions.c.customer_id, decisions.c.ts,
            decisions.c.outcome, decisions.c.score, decisions.c.reasons, decisions.c.strategy, decisions.c.policy_version)
    query = select(*cols).where(decisions.c.tenant == tenant)
    if outcome is not None:
        query = query.where(decisions.c.outcome == outcome)
    if after_seq is None:
        query = query.order_by(decisions.c.seq.desc()).limit(limit)
    else:
        query = query.where(decisions.c.seq > after_seq).order_by(decisions.c.seq).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def iter_decided_since(engine: Any, *, since: datetime, batch: int = 2000) -> Iterator[list[dict[str, Any]]]:
    """Pages of the decisions made since `since` (wall time), in seq order, each read on a short
    connection: what the monitoring cube is refilled from."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(
                select(*_CUBE_COLS).where(decisions.c.seq > last, decisions.c.decided_at >= since)
                .order_by(decisions.c.seq).limit(batch)).mappings()]
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]
