"""The case work over the console's API: the queues, a case, and what an investigator does to it
(assign, move, note, dispose). Reading needs `console:read`; working a case, `cases:work`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tianwang.api.deps import json_body, platform
from tianwang.api.errors import ApiError
from tianwang.api.params import choice, command, int_param, one_param
from tianwang.api.reply import reply
from tianwang.cases import service
from tianwang.console.auth import User, require
from tianwang.decision.outcomes import FRAUD_TYPES
from tianwang.timefmt import iso, iso_dt
from tianwang.store.cases import STATUSES

router = APIRouter(prefix="/console/api/cases", tags=["console"])
LIMIT = (1, 200, 50)
CURSOR = (0, 2**62, 0)
CASE_ID = (1, 2**62, 1)
_TIMES = {"first_ts": "first_at", "last_ts": "last_at", "ts": "at"}  # event time (ms) → ISO


def plain(value: Any) -> Any:
    """Rows as JSON: plain string keys, ISO times (event times in ms become ISO too)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = str(k)
            if key in _TIMES and isinstance(v, int):
                out[_TIMES[key]] = iso(v)
            else:
                out[key] = plain(v)
        return out
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return iso_dt(value)
    return value


async def _do(fn, *args, **kwargs) -> Any:
    """Run a case action off the event loop; its ValueError (bad input) is a 422 naming the problem."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except ValueError as exc:
        raise ApiError(422, "invalid_body", str(exc)) from None




def _case_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 0 < len(raw) <= 18:
        raise ApiError(422, "invalid_query", "case_id: a case number")
    return int(raw)


@router.get("", summary="A queue of cases, highest priority first (status, owner=me, paged with after)")
def queue(request: Request, user: User = Depends(require("console:read"))) -> Response:
    status = one_param(request, "status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_query", f"status: one of {', '.join(STATUSES)}")
    owner = one_param(request, "owner")
    if owner == "me":
        owner = user.username
    if owner is not None and len(owner) > 64:
        raise ApiError(422, "invalid_query", "owner: a user name")
    limit = int_param(request, "limit", LIMIT)
    after = int_param(request, "after", CURSOR) or None
    rows = service.list_cases(db=platform(request).db, tenant=user.tenant, status=status, owner=owner, after=after, limit=limit)
    items = plain(rows)
    return reply({"items": items, "next_after": items[-1]["id"] if len(items) == limit else None})


@router.get("/{case_id}", summary="A case: its alerts, notes, customers, held events and ring")
def case(case_id: str, request: Request, user: User = Depends(require("console:read"))) -> Response:
    detail = service.case_detail(live=platform(request).live, tenant=user.tenant, case_id=_case_id(case_id))
    detail["held"] = [{"event_id": h["event_id"], "customer_id": h["customer_id"], "scene": h["scene"],
                       "held_outcome": h["outcome"], "occurred_at": iso(h["ts"]),
                       "delay_until": iso(h["until"]) if h["until"] is not None else None} for h in detail["held"]]
    if detail["ring"] is not None:
        detail["ring"] = {"id": detail["ring"]["ring_id"], "members": detail["ring"]["members"] or []}
    return reply(plain(detail))


@router.post("/{case_id}/assign", summary="Give the case to an investigator (or to nobody)")
async def assign(case_id: str, request: Request, user: User = Depends(require("cases:work"))) -> Response:
    cid = _case_id(case_id)
    fields = command(await json_body(request), required={}, optional={"owner": 64})
    done = await _do(service.assign, db=platform(request).db, tenant=user.tenant, case_id=cid, owner=fields["owner"],
                                   actor=user.username)
    return reply(plain(done))


@router.post("/{case_id}/status", summary="Move the case: open → investigating (closing is a disposition)")
async def status(case_id: str, request: Request, user: User = Depends(require("cases:work"))) -> Response:
    cid = _case_id(case_id)
    fields = command(await json_body(request), required={"status": 16}, optional={"reason": 512})
    choice(fields["status"], "status", STATUSES)
    done = await _do(service.set_status, db=platform(request).db, tenant=user.tenant, case_id=cid, status=fields["status"],
                                   actor=user.username, reason=fields["reason"], admin=user.role == "admin")
    return reply(plain(done))


@router.post("/{case_id}/notes", status_code=201, summary="Add a note or a piece of evidence")
async def note(case_id: str, request: Request, user: User = Depends(require("cases:work"))) -> Response:
    cid = _case_id(case_id)
    fields = command(await json_body(request), required={"text": 4000}, optional={"kind": 16})
    choice(fields["kind"], "kind", ("note", "evidence"))
    done = await _do(service.add_note, db=platform(request).db, tenant=user.tenant, case_id=cid, text=fields["text"],
                                   kind=fields["kind"] or "note", actor=user.username)
    return reply(plain(done), status_code=201)


@router.post("/{case_id}/dispose", summary="Close the case as fraud (blacklist, labels, reject held events) or not")
async def dispose(case_id: str, request: Request, user: User = Depends(require("cases:work"))) -> Response:
    cid = _case_id(case_id)
    fields = command(await json_body(request), required={"disposition": 16, "note": 2000}, optional={"fraud_type": 32})
    choice(fields["disposition"], "disposition", ("fraud", "not_fraud"))
    choice(fields["fraud_type"], "fraud_type", FRAUD_TYPES)
    p = platform(request)
    done = await _do(service.dispose, live=p.live, metrics=p.metrics, hasher=p.hasher, tenant=user.tenant, case_id=cid,
                                   disposition=fields["disposition"], fraud_type=fields["fraud_type"],
                                   note=fields["note"], actor=user.username)
    return reply(plain(done))
