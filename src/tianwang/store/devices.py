"""Device sightings (`device_sightings`): the attribute sets the SDK sent, in order, and the device
each resolved to — what a restart replays to rebuild each tenant's device registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, select

from tianwang.store.schema import device_sightings, utcnow


def add_sighting(conn: Connection, row: dict[str, Any]) -> None:
    """Store one sighting (tenant, ts, attrs, token, ip, customer_id, header_order, device_id)."""
    conn.execute(device_sightings.insert().values({**row, "created_at": utcnow()}))


def iter_sightings(engine: Engine, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every sighting in the order it was stored, read in pages on short connections."""
    last = 0
    while True:
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(
                select(device_sightings).where(device_sightings.c.id > last).order_by(device_sightings.c.id).limit(batch)
            ).mappings()]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["id"]
