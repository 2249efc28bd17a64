"""Held events and notifications over HTTP: a person's answer to a held event, the holds of a
tenant, the notifications the webhook delivers (for a lending system that polls instead), and
the interventions (calls, SMS, pop-ups) with the call centre's answers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tianwang.api.deps import json_body, platform, tenant
from tianwang.api.errors import ApiError
from tianwang.api.params import choice, command, int_param, one_param
from tianwang.api.reply import plain, reply
from tianwang.holds.service import resolve_hold
from tianwang.tenants.service import Tenant
from tianwang.store import holds as holds_repo
from tianwang.store import outbox as outbox_repo
from tianwang.timefmt import iso, iso_dt

router = APIRouter(prefix="/v1", tags=["holds"])

LIMIT = (1, 1000, 100)
AFTER = (0, 999_999_999, 0)
STATUSES = (holds_repo.HELD, holds_repo.RELEASED, holds_repo.REJECTED)
TOPICS = ("decision.revised", "hold.released", "ring.flagged")


def public_hold(row: dict) -> dict:
    """A hold as the API shows it (times in ISO-8601 event time)."""
    return {
        "id": row["id"], "event_id": row["event_id"], "customer_id": row["customer_id"], "scene": row["scene"],
        "held_outcome": row["outcome"], "occurred_at": iso(row["ts"]),
        "delay_until": iso(row["until_ts"]) if row["until_ts"] is not None else None,
        "status": row["status"], "outcome": row["final_outcome"],
        "resolved_at": iso(row["resolved_ts"]) if row["resolved_ts"] is not None else None,
        "resolved_by": row["resolved_by"], "resolution": row["resolution"],
    }


@router.post("/decisions/{event_id}/resolve",
             summary="A person's answer to a held event: pass releases it, reject refuses it")
async def resolve(event_id: str, request: Request, who: Tenant = Depends(tenant)) -> Response:
    fields = command(await json_body(request), required={"outcome": 8, "actor": 128}, optional={"note": 2000})
    choice(fields["outcome"], "outcome", ("pass", "reject"))
    if len(event_id) > 128:
        raise ApiError(422, "invalid_query", "event_id: at most 128 characters")
    p = platform(request)
    row = await run_in_threadpool(lambda: resolve_hold(live=p.live, metrics=p.metrics, tenant=who.id, event_id=event_id,
                                                       outcome=fields["outcome"], actor=fields["actor"],
                                                       note=fields["note"] or ""))
    return reply(public_hold(row))


@router.get("/holds", summary="Held events and how they ended, oldest first (page with `after`)")
def holds(request: Request, who: Tenant = Depends(tenant)) -> Response:
    status = one_param(request, "status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_query", f"status: one of {', '.join(STATUSES)}")
    customer_id = one_param(request, "customer_id")
    if customer_id is not None and not 0 < len(customer_id) <= 128:
        raise ApiError(422, "invalid_query", "customer_id: 1 to 128 characters")
    limit, after = int_param(request, "limit", LIMIT), int_param(request, "after", AFTER)
    with platform(request).db.connect() as conn:
        rows = holds_repo.page(conn, tenant=who.id, status=status, customer_id=customer_id, after_id=after, limit=limit)
    items = [public_hold(r) for r in rows]
    return reply({"items": items, "next_after": items[-1]["id"] if len(items) == limit else None})


@router.get("/notifications",
            summary="What the webhook delivers (revised decisions, released holds, flagged rings), oldest first")
def notifications(request: Request, who: Tenant = Depends(tenant)) -> Response:
    topic = one_param(request, "topic")
    if topic is not None and topic not in TOPICS:
        raise ApiError(422, "invalid_query", f"topic: one of {', '.join(TOPICS)}")
    limit, after = int_param(request, "limit", LIMIT), int_param(request, "after", AFTER)
    with platform(request).db.connect() as conn:
        rows = outbox_repo.notifications(conn, tenant=who.id, after_id=after, limit=limit, topic=topic)
    items = [{"id": r["id"], "topic": r["topic"], "created_at": iso_dt(r["created_at"]),
              "delivery": r["status"], "attempts": r["attempts"], "data": r["payload"]} for r in rows]
    return reply({"items": items, "next_after": items[-1]["id"] if len(items) == limit else None})


@router.get("/interventions", summary="Intervention tasks of a customer or an event (calls, SMS, pop-ups) and their outcomes")
def interventions(request: Request, who: Tenant = Depends(tenant)) -> Response:
    from tianwang.store import interventions as iv_repo

    customer_id, event_id = one_param(request, "customer_id"), one_param(request, "event_id")
    if (customer_id is None) == (event_id is None):
        raise ApiError(422, "invalid_query", "give customer_id or event_id")
    if len(customer_id or event_id) > 128:
        raise ApiError(422, "invalid_query", "at most 128 characters")
    with platform(request).db.connect() as conn:
        rows = iv_repo.list_of(conn, tenant=who.id, customer_id=customer_id, event_id=event_id)
    return reply({"items": plain(rows)})


@router.post("/interventions/{task_id}/result", status_code=201,
             summary="The call centre's answer to an intervention task (denied: the held event is rejected)")
async def intervention_result(task_id: str, request: Request, who: Tenant = Depends(tenant)) -> Response:
    from tianwang.interventions.worker import record_result
    from tianwang.store import interventions as iv_repo

    if not (task_id.isascii() and task_id.isdigit()) or len(task_id) > 18:
        raise ApiError(422, "invalid_query", "task_id: a task number")
    raw = await json_body(request)
    if not isinstance(raw, dict) or set(raw) - {"outcome", "detail", "by"}:
        raise ApiError(422, "invalid_body", "send {\"outcome\": …, \"detail\": {…}?, \"by\": \"…\"?}")
    choice(raw.get("outcome"), "outcome", iv_repo.OUTCOMES)
    by = raw.get("by") or "callcentre"
    if not isinstance(by, str) or len(by) > 56 or not by.isprintable():
        raise ApiError(422, "invalid_body", "by: printable text of at most 56 characters")
    try:
        done = await run_in_threadpool(record_result, platform(request).recorder, who.id, int(task_id), raw.get("outcome"),
                                       raw.get("detail"), f"api:{by}")
    except ValueError as exc:
        raise ApiError(422, "invalid_body", str(exc)) from None
    return reply(plain(done), status_code=201)
