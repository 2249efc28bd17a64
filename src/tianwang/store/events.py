"""Reads of the event log (`events`); events are written only by `store.writer`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from tianwang.store.schema import decisions, events


def get_event(conn: Connection, *, tenant: str, event_id: str) -> dict[str, Any] | None:
    """The stored event with this idempotency key, or None."""
    row = conn.execute(
        select(events).where(events.c.tenant == tenant, events.c.event_id == event_id)
    ).mappings().first()
    return dict(row) if row is not None else None


def iter_events(
    engine: Engine, *, tenant: str | None = None, after_seq: int = 0, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every event after `after_seq` in seq order, read in batches on short connections."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    last = after_seq
    while True:
        query = select(events).where(events.c.seq > last).order_by(events.c.seq).limit(batch)
        if tenant is not None:
            query = query.where(events.c.tenant == tenant)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]


def iter_events_with_outcomes(engine: Engine, *, tenant: str | None = None, after_seq: int = 0,
                              batch: int = 1000) -> Iterator[dict[str, Any]]:
    """(seq, tenant, event_id, payload, outcome) of every event after `after_seq`, in seq order;
    `outcome` is its decision's (None if it has none): what rebuilding the network reads."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    last = after_seq
    join = events.outerjoin(decisions, (decisions.c.tenant == events.c.tenant) & (decisions.c.event_id == events.c.event_id))
    while True:
        query = (select(events.c.seq, events.c.tenant, events.c.event_id, events.c.payload, decisions.c.outcome)
                 .select_from(join).where(events.c.seq > last).order_by(events.c.seq).limit(batch))
        if tenant is not None:
            query = query.where(events.c.tenant == tenant)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]


def max_seq(conn: Connection) -> int:
    """The highest event seq stored, 0 when there is none."""
    return conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
