"""Reads of the event log (`events`); events are written only by `store.writer`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from tianwang.store.schema import events


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


def max_seq(conn: Connection) -> int:
    """The highest event seq stored, 0 when there is none."""
    return conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
