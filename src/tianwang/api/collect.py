"""Codeless collection over HTTP: the SDK file, its beacons, and the preview of collection rules.

`POST /v1/collect?site=<tenant id>` takes a beacon from a browser: no API key (a page cannot
keep one secret; the site id is public), a body of at most `max_beacon_bytes`, JSON sent as
`text/plain` too (what `navigator.sendBeacon` sends, with no CORS preflight). A refused beacon
gets a clear error and is counted in /metrics (`tianwang_collect_refused_beacons`); nothing of
it is stored. `GET /sdk/tianwang.js` serves the SDK built by `make sdk`.

`POST /v1/collect/preview` (API key): collection rules as the bundle would hold them, each
validated and counted against the stored captured events — how many it would have matched —
so a selector that matches nothing is seen before it is published.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from tianwang.api.deps import json_body, platform, tenant
from tianwang.api.errors import ApiError
from tianwang.api.params import int_param
from tianwang.api.reply import reply
from tianwang.collect.beacon import BeaconError
from tianwang.collect.preview import preview
from tianwang.collect.service import collect
from tianwang.tenants.service import Tenant

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
    try:
        raw = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        return _refuse(request, 400, "invalid_json", f"malformed JSON: {exc}")
    headers = ",".join(request.headers.keys())[:512]
    ip = request.client.host if request.client else None
    try:
        result = await run_in_threadpool(collect, rt, who, raw, ip=ip, header_order=headers)
    except BeaconError as exc:
        return _refuse(request, 422, exc.code, str(exc))
    return reply(result, headers=CORS)


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
