"""Reads of the event log (`events`); events are written only by `store.writer`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select

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
    return _in_seq_pages(engine, select(events), tenant=tenant, after_seq=after_seq, batch=batch)


def iter_events_with_outcomes(engine: Engine, *, tenant: str | None = None, after_seq: int = 0,
                              batch: int = 1000) -> Iterator[dict[str, Any]]:
    """(seq, tenant, event_id, payload, outcome) of every event after `after_seq`, in seq order;
    `outcome` is its decision's (None if it has none): what rebuilding the network reads."""
    join = events.outerjoin(decisions, (decisions.c.tenant == events.c.tenant) & (decisions.c.event_id == events.c.event_id))
    query = select(events.c.seq, events.c.tenant, events.c.event_id, events.c.payload, decisions.c.outcome).select_from(join)
    return _in_seq_pages(engine, query, tenant=tenant, after_seq=after_seq, batch=batch)


def _in_seq_pages(engine: Engine, query: Select, *, tenant: str | None, after_seq: int,
                  batch: int) -> Iterator[dict[str, Any]]:
    """The rows of `query` (over `events`) after `after_seq`, in seq order, `batch` at a time."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    if tenant is not None:
        query = query.where(events.c.tenant == tenant)
    return _pages(engine, query, after_seq, batch)


def _pages(engine: Engine, query: Select, last: int, batch: int) -> Iterator[dict[str, Any]]:
    while True:
        with engine.connect() as conn:
            page = query.where(events.c.seq > last).order_by(events.c.seq).limit(batch)
            rows = [dict(r) for r in conn.execute(page).mappings()]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]


def max_seq(conn: Connection) -> int:
    """The highest event seq stored, 0 when there is none."""
    return conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()


def iter_ids(conn: Connection) -> Iterator[tuple[str, str]]:
    """Every stored (tenant, event_id), streamed: the index of what a repeat may be."""
    for row in conn.execute(select(events.c.tenant, events.c.event_id)).yield_per(10_000):
        yield tuple(row)
