"""List entries over HTTP: add (all or nothing), look up, remove."""

from __future__ import annotations

from fastapi.responses import Response
from fastapi import APIRouter, Depends, Request

from tianwang.api.deps import json_body, platform, tenant
from tianwang.api.reply import reply
from tianwang.api.errors import ApiError
from tianwang.tenants.service import Tenant
from tianwang.lists import service

router = APIRouter(prefix="/v1/lists", tags=["lists"])


@router.post("", summary="Add or update list entries (all or nothing)")
async def add_entries(request: Request, who: Tenant = Depends(tenant)) -> Response:
    raw = await json_body(request)
    entries = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ApiError(422, "invalid_list_entry", "send {\"entries\": [{list_type, entity, value, reason, …}]}")
    if len(entries) > 10_000:
        raise ApiError(413, "too_large", "entries: at most 10000 in one request; use `tianwang lists import` for more")
    stored = service.add_entries(live=platform(request).live, hasher=platform(request).hasher, tenant=who.id, raw_entries=entries, actor=f"api:{who.id}")
    return reply({"stored": stored}, status_code=201)


@router.get("", summary="List entries, optionally of one list type")
def get_entries(request: Request, list_type: str | None = None, who: Tenant = Depends(tenant)) -> Response:
    rows = service.entries(db=platform(request).db, tenant=who.id, list_type=list_type)
    return reply({"entries": rows})


@router.delete("/{list_type}/{entity}/{value}", summary="Remove one entry (value as given, PII in clear)")
def delete_entry(list_type: str, entity: str, value: str, request: Request, who: Tenant = Depends(tenant)) -> Response:
    service.remove_entry(live=platform(request).live, hasher=platform(request).hasher, tenant=who.id, list_type=list_type, entity=entity, value=value, actor=f"api:{who.id}")
    return reply({"removed": 1})
