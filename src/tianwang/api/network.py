"""The graph API: a customer's neighbourhood, the rings by risk, one ring's detail, the ring
report, and an investigator's disposition of a ring (fraud: its members' held events rejected).

Every read is of the tenant's own network (`Live.read_network`), never another's: ring
ids are numbered per tenant, so the same id names different rings at two lenders. The network
is the walk's, changed by every event under the live state's lock; a view is built *and encoded*
under that lock, so the bytes sent are one consistent snapshot that no concurrent event can
change half-way through. A tenant with no network yet reads as an empty one (nothing is created).

Query parameters are parsed here rather than by FastAPI's validation, so a bad one answers in
the project's error shape (`{"error": {"code": "invalid_query", …}}`, 422) like every other error.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from fastapi.concurrency import run_in_threadpool

from tianwang.api.deps import json_body, platform, tenant
from tianwang.api.params import choice, command
from tianwang.api.reply import reply
from tianwang.decision.outcomes import FRAUD_TYPES
from tianwang.cases.rings import DISPOSITIONS, dispose_ring
from tianwang.api.errors import ApiError
from tianwang.api.params import int_param as _int_param
from tianwang.api.params import timestamp_param as _timestamp_param
from tianwang.errors import NotFound
from tianwang.app.platform import Platform
from tianwang.tenants.service import Tenant
from tianwang.network.live import Network
from tianwang.network.rings import ring_number
from tianwang.network.views import HOUR_MS, ring_report
from tianwang.network import views as network_views



class _AnyText(Convertor):
    """A path parameter that takes any text, slashes and line breaks included (`:path` stops at a
    line break): a hostile id reaches the route and gets a clear 422, not the router's bare 404."""

    regex = "(?s:.+)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("tw_any", _AnyText())

router = APIRouter(prefix="/v1", tags=["network"])

# The customer_id an event may carry (events.EventIn's pattern): anything else cannot be a customer.
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")

HOPS = (1, 4, 2)  # lowest, highest, default
MAX_NODES = (1, 1000, 200)
RING_LIMIT = (1, 500, 50)
REPORT_HOURS = (1, 168, 1)


def _customer_id(value: str) -> str:
    if not _CUSTOMER_ID.fullmatch(value):
        message = "not a customer id (1-128 characters: letters, digits and . _ : @ / -, starting with a letter or digit)"
        raise ApiError(422, "invalid_query", f"customer_id: {message}", [{"field": "customer_id", "message": message}])
    return value


def _ring_id(value: str) -> str:
    if ring_number(value) is None:
        message = "not a ring id (ring ids look like R000001)"
        raise ApiError(422, "invalid_query", f"ring_id: {message}", [{"field": "ring_id", "message": message}])
    return value


def _read(p: Platform, tenant_id: str, view: Callable[[Network], Any]) -> bytes:
    """`view` of the tenant's network, encoded before the next event changes it (NotFound raised by view)."""
    return p.live.read_network(tenant_id, lambda net: orjson.dumps(view(net)))


def _json(payload: bytes) -> Response:
    return Response(payload, media_type="application/json")


@router.get("/customers/{customer_id:tw_any}/neighbourhood",
            summary="A customer's k-hop neighbourhood in the link network: nodes and edges for a graph view")
def neighbourhood(
    customer_id: str,
    request: Request,
    who: Tenant = Depends(tenant),
    hops: str | None = Query(None, description="shared-entity hops to walk, 1 to 4 (default 2)"),
    max_nodes: str | None = Query(None, description="most nodes returned, 1 to 1000 (default 200); `truncated` says if more were there"),
) -> Response:
    cid = _customer_id(customer_id)
    k = _int_param(request, "hops", HOPS)
    cap = _int_param(request, "max_nodes", MAX_NODES)

    def view(net: Network) -> dict:
        if cid not in net.graph.cust_index:
            raise NotFound(f"customer {cid!r} is not in the network")
        return network_views.neighbourhood(net, cid, hops=k, max_nodes=cap)

    return _json(_read(platform(request), who.id, view))


@router.get("/rings", summary="The tenant's rings, riskiest first")
def rings(
    request: Request,
    who: Tenant = Depends(tenant),
    limit: str | None = Query(None, description="most rings returned, 1 to 500 (default 50)"),
) -> Response:
    n = _int_param(request, "limit", RING_LIMIT)
    return _json(_read(platform(request), who.id, lambda net: {"rings": network_views.rings_by_risk(net, limit=n)}))


# Registered before /rings/{ring_id} so that "report" is not read as a ring id.
@router.get("/rings/report", summary="What the rings did in a period of event time: formed, grew, split, merged, dissolved")
def rings_report(
    request: Request,
    who: Tenant = Depends(tenant),
    hours: str | None = Query(None, description="the period's length in hours, 1 to 168 (default 1)"),
    until: str | None = Query(None, description="the period's end, an ISO-8601 timestamp with a time zone "
                                                 "(default: the latest event time the network has linked)"),
) -> Response:
    h = _int_param(request, "hours", REPORT_HOURS)
    end = _timestamp_param(request, "until")

    def view(net: Network) -> dict:
        stop = net.last_ts if end is None else end
        report = ring_report(net, stop - h * HOUR_MS, stop)
        report["period"]["hours"] = h
        return report

    return _json(_read(platform(request), who.id, view))


@router.get("/rings/{ring_id:tw_any}", summary="One ring: members, shared entities, timeline, profile; a retired ring says where it went")
def ring(ring_id: str, request: Request, who: Tenant = Depends(tenant)) -> Response:
    return ring_response(platform(request), who.id, ring_id)


def ring_response(p: Platform, tenant_id: str, ring_id: str) -> Response:
    """One ring's detail for a tenant (the API's and the console's): 422 for a malformed id, 404 for none."""
    rid = _ring_id(ring_id)

    def view(net: Network) -> dict:
        detail = network_views.ring_detail(net, rid)
        if detail is None:
            raise NotFound(f"no ring {rid!r}")
        return detail

    return _json(_read(p, tenant_id, view))


@router.post("/rings/{ring_id:tw_any}/disposition", status_code=201,
             summary="An investigator's word on a ring: fraud re-decides every held event of its members to reject")
async def dispose(ring_id: str, request: Request, who: Tenant = Depends(tenant)) -> Response:
    return await disposition_response(request, who.id, ring_id, actor=None)


async def disposition_response(request: Request, tenant_id: str, ring_id: str, *, actor: str | None) -> Response:
    """A ring disposition for a tenant, checked and carried out (cases/rings.py). `actor`: the
    signed-in person (console), or None to read it from the body (API key callers name theirs)."""
    rid = _ring_id(ring_id)
    required = {"disposition": 16} if actor else {"disposition": 16, "actor": 128}
    fields = command(await json_body(request), required=required, optional={"note": 2000, "fraud_type": 32})
    choice(fields["disposition"], "disposition", DISPOSITIONS)
    choice(fields["fraud_type"], "fraud_type", FRAUD_TYPES)
    p = platform(request)
    done = await run_in_threadpool(lambda: dispose_ring(live=p.live, metrics=p.metrics, tenant=tenant_id, ring_id=rid,
                                                        disposition=fields["disposition"],
                                                        actor=actor or fields["actor"], note=fields["note"] or "",
                                                        fraud_type=fields["fraud_type"]))
    return reply(done, status_code=201)
