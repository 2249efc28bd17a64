"""What every router needs from a request: the platform, the tenant, a bounded JSON body."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from tianwang.api.errors import ApiError
from tianwang.app.platform import Platform
from tianwang.tenants.service import Tenant


def platform(request: Request) -> Platform:
    return request.app.state.platform


def tenant(request: Request) -> Tenant:
    """The tenant of the X-API-Key header (401 without a known key)."""
    key = request.headers.get("x-api-key")
    if not key:
        raise ApiError(401, "unauthenticated", "send your API key in the X-API-Key header")
    found = platform(request).tenants.by_key(key)
    if found is None:
        raise ApiError(401, "unauthenticated", "unknown API key")
    return found


async def json_body(request: Request, *, limit: int | None = None) -> Any:
    """The request body as JSON, refusing oversized (413) and malformed (400) bodies
    (`limit`: bytes, default the setting `max_body_bytes`)."""
    limit = limit or platform(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"body over {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        raise ApiError(400, "invalid_json", "the body is empty; send a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"malformed JSON: {exc}") from None

