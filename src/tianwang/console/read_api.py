"""What the console shows and the lists it edits: decisions as they happen, a customer, the rings,
the lists — each read for the signed-in user's own tenant, with the permission its role needs.

Paginated by keys the indexes serve (decisions by `seq`, a customer's events by (ts, seq)), so
the pages stay fast with millions of decisions stored (bench/console.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tianwang.api.deps import json_body, platform
from tianwang.api.errors import ApiError
from tianwang.api.holds import public_hold
from tianwang.api.network import (HOPS, MAX_NODES, RING_LIMIT, _customer_id, _json, _read, disposition_response,
                                  ring_response)
from tianwang.api.params import int_param, one_param
from tianwang.api.reply import reply
from tianwang.console.auth import User, require
from tianwang.decision.outcomes import OUTCOMES
from tianwang.errors import NotFound
from tianwang.network import views as network_views
from tianwang.timefmt import iso
from tianwang.lists import service as lists_service
from tianwang.store import decisions as decision_repo
from tianwang.store import holds as holds_repo

router = APIRouter(prefix="/console/api", tags=["console"])
LIMIT = (1, 500, 100)
AFTER = (0, 2**62, 0)




def _decision_item(r) -> dict:
    return {"seq": r["seq"], "event_id": r["event_id"], "scene": r["scene"], "customer_id": r["customer_id"],
            "occurred_at": iso(r["ts"]), "outcome": r["outcome"], "score": r["score"],
            "reasons": [x["code"] for x in r["reasons"] or []],
            "strategy_version": f"{r['strategy']}@{r['policy_version']}" if r["strategy"] else None}


@router.get("/decisions", summary="Decisions as they are made: the newest, or those after a seq")
def live_decisions(request: Request, user: User = Depends(require("console:read"))) -> Response:
    limit = int_param(request, "limit", LIMIT)
    after = one_param(request, "after")
    outcome = one_param(request, "outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ApiError(422, "invalid_query", f"outcome: one of {', '.join(OUTCOMES)}")
    after_seq = int_param(request, "after", AFTER) if after is not None else None
    with platform(request).db.connect() as conn:
        rows = [_decision_item(r) for r in decision_repo.live_page(conn, tenant=user.tenant, outcome=outcome,
                                                                   after_seq=after_seq, limit=limit)]
    if after is None:
        rows.reverse()
    last = rows[-1]["seq"] if rows else (int(after) if after is not None else 0)
    return reply({"items": rows, "last_seq": last})


@router.get("/customers/{customer_id:tw_any}/neighbourhood", summary="A customer's neighbourhood in the link network")
def console_neighbourhood(customer_id: str, request: Request, user: User = Depends(require("console:read"))) -> Response:
    cid = _customer_id(customer_id)
    k, cap = int_param(request, "hops", HOPS), int_param(request, "max_nodes", MAX_NODES)
    return _json(_read(platform(request), user.tenant, lambda net: network_views.neighbourhood(net, cid, hops=k, max_nodes=cap)))


@router.get("/customers/{customer_id:tw_any}", summary="A customer: decisions, events, held events, lists, devices, ring")
def customer(customer_id: str, request: Request, user: User = Depends(require("console:read"))) -> Response:
    cid = _customer_id(customer_id)
    rt = platform(request)
    with rt.db.connect() as conn:
        rows = decision_repo.customer_timeline(conn, tenant=user.tenant, customer_id=cid, limit=200)
        held = holds_repo.page(conn, tenant=user.tenant, customer_id=cid, limit=200)
    if not rows:
        raise NotFound(f"no events of customer {cid!r}")
    ring_id = rt.live.read_network(user.tenant, lambda net: net.ring_of(cid))
    entries = [e for e in lists_service.entries(db=rt.db, tenant=user.tenant) if e.get("entity") == "customer" and e.get("value") == cid]
    devices = sorted({r["payload"].get("device_id") for r in rows if r["payload"].get("device_id")})
    return reply({
        "customer_id": cid, "ring_id": ring_id, "devices": devices, "lists": entries,
        "holds": [public_hold(h) for h in held],
        "decisions": [{"event_id": r["event_id"], "scene": r["scene"], "occurred_at": iso(r["ts"]),
                       "outcome": r["outcome"], "score": r["score"],
                       "reasons": [{"code": x["code"], "text": x["text"]} for x in r["reasons"] or []]} for r in rows],
        "events": [{"event_id": r["event_id"], "scene": r["scene"], "occurred_at": iso(r["ts"]), "event": r["payload"]}
                   for r in rows],
    })


@router.get("/rings", summary="Rings by risk")
def rings(request: Request, user: User = Depends(require("console:read"))) -> Response:
    limit = int_param(request, "limit", RING_LIMIT)
    return _json(_read(platform(request), user.tenant, lambda net: {"rings": network_views.rings_by_risk(net, limit=limit)}))


@router.get("/rings/{ring_id:tw_any}", summary="A ring: members, shared entities, timeline, profile")
def ring(ring_id: str, request: Request, user: User = Depends(require("console:read"))) -> Response:
    return ring_response(platform(request), user.tenant, ring_id)


@router.post("/rings/{ring_id:tw_any}/disposition", status_code=201,
             summary="Mark a ring fraud (its members' held events are rejected) or not fraud")
async def ring_disposition(ring_id: str, request: Request, user: User = Depends(require("cases:work"))) -> Response:
    return await disposition_response(request, user.tenant, ring_id, actor=user.username)


@router.get("/lists", summary="List entries, optionally of one list type")
def lists(request: Request, user: User = Depends(require("console:read"))) -> Response:
    list_type = one_param(request, "list_type")
    return reply({"entries": lists_service.entries(db=platform(request).db, tenant=user.tenant, list_type=list_type)})


@router.post("/lists", status_code=201, summary="Add list entries (all or nothing)")
async def add_to_lists(request: Request, user: User = Depends(require("lists:write"))) -> Response:
    raw = await json_body(request)
    entries = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries or len(entries) > 1000:
        raise ApiError(422, "invalid_list_entry", "send {\"entries\": [{list_type, entity, value, reason}]} (1 to 1000)")
    p = platform(request)
    stored = await run_in_threadpool(lists_service.add_entries, live=p.live, hasher=p.hasher, tenant=user.tenant, raw_entries=entries,
                                     actor=f"console:{user.username}")
    return reply({"stored": stored}, status_code=201)


@router.delete("/lists/{list_type}/{entity}/{value:tw_any}", summary="Remove one list entry")
def remove_from_lists(list_type: str, entity: str, value: str, request: Request,
                      user: User = Depends(require("lists:write"))) -> Response:
    p = platform(request)
    lists_service.remove_entry(live=p.live, hasher=p.hasher, tenant=user.tenant, list_type=list_type, entity=entity, value=value,
                          actor=f"console:{user.username}")
    return reply({"removed": 1})
