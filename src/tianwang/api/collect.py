"""Codeless collection over HTTP: the SDK file, its beacons, and the preview of collection rules.

`POST /v1/collect?site=<tenant id>` takes a beacon from a browser: no API key (a page cannot
keep one secret; the site id is public), a body of at most `max_beacon_bytes`, JSON sent as
`text/plain` too (what `navigator.sendBeacon` sends, with no CORS preflight). A refused beacon
gets a clear error and is counted in /metrics (`tianwang_collect_refused_beacons`); nothing of
it is stored. `GET /sdk/tianwang.js` serves the SDK built by `make sdk`.

A beacon's `customer_id` counts only with a customer token the lender's back end asked for
(`POST /v1/collect/customer-token`, API key; collect/tokens.py), or on a request that carries the
tenant's API key: otherwise anyone could post behaviour in any customer's name.

`POST /v1/collect/preview` (API key): collection rules as the bundle would hold them, each
validated and counted against the stored captured events — how many it would have matched —
so a selector that matches nothing is seen before it is published.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from tianwang.api.deps import duplicate_key, json_body, platform, tenant
from tianwang.api.errors import ApiError
from tianwang.api.params import int_param
from tianwang.api.reply import reply
from tianwang.collect import tokens
from tianwang.collect.beacon import CUSTOMER, BeaconError
from tianwang.collect.preview import preview
from tianwang.collect.service import collect
from tianwang.tenants.service import Tenant
from tianwang.timefmt import iso

router = APIRouter(tags=["collect"])

STATIC = Path(__file__).resolve().parents[1] / "static"
SDK_FILE = STATIC / "sdk" / "tianwang.js"
DEMO_PAGE = STATIC / "demo" / "apply.html"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "86400"}
DAYS = (1, 90, 7)


def _refuse(request: Request, status: int, reason: str, message: str) -> Response:
    platform(request).metrics.beacon_refused(reason)
    return reply({"error": {"code": reason, "message": message, "detail": []}}, status_code=status, headers=CORS)


@router.options("/v1/collect", include_in_schema=False)
def collect_preflight() -> Response:
    return Response(status_code=204, headers=CORS)


@router.post("/v1/collect", summary="A beacon of captured client events from the browser SDK")
async def collect_beacon(request: Request) -> Response:
    rt = platform(request)
    site = request.query_params.get("site")
    who = rt.tenants.by_id(site) if site and len(site) <= 64 else None
    if who is None:
        return _refuse(request, 404, "unknown_site", "site: the tenant id the SDK was given (data-site)")
    limit = rt.settings.max_beacon_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        return _refuse(request, 413, "too_large", f"a beacon is at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _refuse(request, 413, "too_large", f"a beacon is at most {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _refuse(request, 400, "invalid_json", f"malformed JSON: {exc}")
    twice = duplicate_key(body, raw)
    if twice is not None:
        return _refuse(request, 400, "duplicate_key", f"the key {twice!r} is written twice in one object")
    headers = ",".join(request.headers.keys())[:512]
    ip = request.client.host if request.client else None
    key = request.headers.get("x-api-key")
    trusted = bool(key) and rt.tenants.by_key(key) == who  # the lender's own back end, not a page
    try:
        result = await run_in_threadpool(collect, rt, who, raw, ip=ip, header_order=headers,
                                         customer_key=rt.customer_key, trusted=trusted)
    except BeaconError as exc:
        return _refuse(request, 422, exc.code, str(exc))
    return reply(result, headers=CORS)


@router.post("/v1/collect/customer-token", status_code=201,
             summary="A short-lived token that lets the SDK's beacons speak for a signed-in customer")
async def customer_token(request: Request, who: Tenant = Depends(tenant)) -> Response:
    """`{"customer_id": "c-42", "ttl_s": 3600}` from the lender's back end, for the page it serves the
    signed-in customer: the page passes the token to `tianwang.identify(customer_id, token)`."""
    raw = await json_body(request)
    if not isinstance(raw, dict) or set(raw) - {"customer_id", "ttl_s"}:
        raise ApiError(422, "invalid_body", "send {\"customer_id\": …, \"ttl_s\": seconds (optional)}")
    customer_id = raw.get("customer_id")
    if not isinstance(customer_id, str) or not CUSTOMER.match(customer_id):
        raise ApiError(422, "invalid_body", "customer_id: 1-128 letters, digits and . _ : @ / -")
    ttl = raw.get("ttl_s", tokens.DEFAULT_TTL_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not tokens.MIN_TTL_S <= ttl <= tokens.MAX_TTL_S:
        raise ApiError(422, "invalid_body", f"ttl_s: whole seconds from {tokens.MIN_TTL_S} to {tokens.MAX_TTL_S}")
    token, expires = tokens.issue(platform(request).customer_key, tenant=who.id, customer_id=customer_id,
                                  now_ms=int(time.time() * 1000), ttl_s=ttl)
    return reply({"customer_id": customer_id, "token": token, "expires_at": iso(expires)}, status_code=201)


@router.get("/sdk/tianwang.js", summary="The browser SDK (built by `make sdk`)")
def sdk_file() -> Response:
    if not SDK_FILE.exists():
        raise ApiError(404, "not_built", "the SDK is not built on this server: run `make sdk`")
    return FileResponse(SDK_FILE, media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/demo/apply", summary="A demo application form that runs the SDK (for `make demo` and the browser tests)",
            include_in_schema=False)
def demo_page() -> Response:
    return FileResponse(DEMO_PAGE, media_type="text/html; charset=utf-8")


@router.post("/v1/collect/preview",
             summary="Validate collection rules and count the stored captured events each would have matched")
async def collect_preview(request: Request, who: Tenant = Depends(tenant)) -> Response:
    raw = await json_body(request)
    days = int_param(request, "days", DAYS)
    if not isinstance(raw, dict) or not isinstance(raw.get("collect"), list) or not raw["collect"]:
        raise ApiError(422, "invalid_body", "send {\"collect\": [{name, type, url, selector}, …]}")
    if len(raw["collect"]) > 200:
        raise ApiError(413, "too_large", "at most 200 rules in one preview")
    out = await run_in_threadpool(lambda: preview(db=platform(request).db, tenant=who.id, items=raw["collect"], days=days))
    return reply(out)
