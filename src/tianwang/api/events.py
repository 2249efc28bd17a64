"""POST /v1/events and /v1/events/batch: the decision is the answer."""

from __future__ import annotations

from fastapi.responses import Response
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from tianwang.api.commits import commit_waiter
from tianwang.api.deps import json_body, platform, tenant
from tianwang.api.reply import reply
from tianwang.api.errors import ApiError, error_payload
from tianwang.errors import StoreUnavailable
from tianwang.ingest.walk import accept, unstored

router = APIRouter(prefix="/v1/events", tags=["events"])

EVENT_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}},
    }
}


def render(decision: dict, *, with_values: bool = False) -> dict:
    out = {k: v for k, v in decision.items() if k != "values"}
    if with_values:
        out["values"] = decision["values"]
    return out


@router.post("", openapi_extra=EVENT_DOC, summary="Send one event; the answer is its decision")
async def post_event(request: Request) -> Response:
    # `tenant` is called, not declared with Depends: FastAPI's dependency solving costs more
    # than the look-up itself on this, the hottest route.
    who = tenant(request)
    rt = platform(request)
    raw = await json_body(request)
    accepted = await walked(rt, who, raw)
    decision = accepted.decision
    if accepted.future is not None:
        try:
            await commit_waiter(request.app, rt).wait(accepted.future)
        except StoreUnavailable as exc:  # the database went away before the commit: the fallback outcome
            decision = unstored(rt, who, decision, exc)
    return reply(render(decision), status_code=_status(decision))


async def walked(rt, who, raw):
    """The walk, on the event loop (embedded: CPU only, a thread hand-off would cost more than it
    saves) or, in server mode, in a worker thread, so the loop reads and answers other requests
    while this walk waits on Redis."""
    if rt.shared:
        return await run_in_threadpool(accept, rt, who, raw)
    return accept(rt, who, raw)


def _status(decision: dict) -> int:
    """201: a decision stored now; 200: a repeat's stored one, or a fallback nothing was stored for."""
    return 200 if decision["duplicate"] or decision.get("stored") is False else 201


@router.post("/batch", summary="Send up to max_batch events; each gets its own result")
async def post_batch(request: Request) -> Response:
    who = tenant(request)
    rt = platform(request)
    raw = await json_body(request)
    items = raw.get("events") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise ApiError(422, "invalid_batch", "send {\"events\": [ ... ]}", [{"field": "events", "message": "must be a list"}])
    if not items:
        raise ApiError(422, "invalid_batch", "events: the batch is empty")
    if len(items) > rt.settings.max_batch:
        raise ApiError(413, "batch_too_large", f"events: at most {rt.settings.max_batch} events in one batch")
    results: list[dict | None] = [None] * len(items)
    pending = []
    for i, item in enumerate(items):
        try:
            accepted = await walked(rt, who, item)
        except Exception as exc:  # noqa: BLE001 — each item answers for itself
            status, payload = error_payload(exc)
            results[i] = {"index": i, "status": status, **payload}
            continue
        pending.append((i, accepted))
    for i, accepted in pending:
        try:
            decision = accepted.decision
            if accepted.future is not None:
                try:
                    await commit_waiter(request.app, rt).wait(accepted.future)
                except StoreUnavailable as exc:
                    decision = unstored(rt, who, decision, exc)
            results[i] = {"index": i, "status": _status(decision), "decision": render(decision)}
        except Exception as exc:  # noqa: BLE001
            status, payload = error_payload(exc)
            results[i] = {"index": i, "status": status, **payload}
    ok = sum(1 for r in results if r and r["status"] < 300)
    return reply({"accepted": ok, "failed": len(items) - ok, "results": results}, status_code=200)
