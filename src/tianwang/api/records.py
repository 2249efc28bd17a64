"""Reading what was decided: one decision, a customer's timeline."""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import Response
from fastapi import APIRouter, Depends, Query, Request

from tianwang.api.deps import platform, tenant
from tianwang.api.reply import reply
from tianwang.api.errors import ApiError
from tianwang.errors import NotFound
from tianwang.timefmt import to_ms
from tianwang.ingest.decision import Decision
from tianwang.tenants.service import Tenant
from tianwang.api.holds import public_hold
from tianwang.store import decisions as decision_repo
from tianwang.store import holds as holds_repo

router = APIRouter(prefix="/v1", tags=["records"])


@router.get("/decisions/{event_id}", summary="The decision given for an event, with the values it used")
def get_decision(event_id: str, request: Request, who: Tenant = Depends(tenant)) -> Response:
    with platform(request).db.connect() as conn:
        row = decision_repo.get_decision(conn, tenant=who.id, event_id=event_id)
        held = holds_repo.get(conn, tenant=who.id, event_id=event_id) if row is not None else None
    if row is None:
        raise NotFound(f"no decision for event_id {event_id!r}")
    # `hold`: a review, verify or delay decision waits; it says whether it was released or
    # re-decided since (reverse notification, a person's answer), by whom and why.
    return reply({**Decision.from_row(row), "hold": public_hold(held) if held is not None else None})


@router.get("/customers/{customer_id}/timeline", summary="A customer's events and decisions, newest first")
def timeline(
    customer_id: str,
    request: Request,
    who: Tenant = Depends(tenant),
    limit: int = Query(100, ge=1, le=1000),
    before: datetime | None = Query(None, description="only events that occurred before this time"),
    cursor: str | None = Query(None, max_length=64, description="`next_cursor` of the previous page"),
) -> Response:
    if before is not None and before.tzinfo is None:
        raise ApiError(422, "invalid_query", "before: must carry a timezone")
    before_ts, before_seq = (to_ms(before) if before else None), None
    if cursor is not None:
        before_ts, before_seq = _parse_cursor(cursor)
    with platform(request).db.connect() as conn:
        rows = decision_repo.customer_timeline(
            conn, tenant=who.id, customer_id=customer_id, limit=limit, before_ts=before_ts, before_seq=before_seq
        )
    items = [_item(r) for r in rows]
    # (ts, seq) of the last row: events that share a millisecond are never skipped between pages.
    next_cursor = f"{rows[-1]['ts']}.{rows[-1]['seq']}" if len(rows) == limit else None
    return reply({"customer_id": customer_id, "items": items, "next_cursor": next_cursor})


def _parse_cursor(cursor: str) -> tuple[int, int]:
    ts, _, seq = cursor.partition(".")
    if not (ts.lstrip("-").isascii() and ts.lstrip("-").isdigit() and seq.isascii() and seq.isdigit()):
        raise ApiError(422, "invalid_query", "cursor: pass the next_cursor of the previous page as it is")
    return int(ts), int(seq)


def _item(row: dict) -> dict:
    payload = dict(row.get("payload") or {})
    return {
        "event_id": row["event_id"],
        "scene": row["scene"],
        "occurred_at": payload.get("occurred_at"),
        "event": payload,
        "outcome": row.get("outcome"),
        "score": row.get("score"),
        "reasons": [r["code"] for r in row.get("reasons") or []],
    }
