"""What every router needs from a request: the platform, the tenant, a bounded JSON body."""

from __future__ import annotations

import json
import re
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


_KEY = re.compile(rb'"\s*:')  # a key's closing quote and its colon (also matches an escaped quote in a text)


def _keys(value: Any) -> int:
    """How many keys the decoded objects hold, all levels."""
    if isinstance(value, dict):
        return len(value) + sum(_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(_keys(v) for v in value)
    return 0


def duplicate_key(raw: bytes, decoded: Any) -> str | None:
    """A key written twice in one object (orjson keeps the last, a gateway may keep the first), or None.
    Fast path: every key is one `"…":` of the raw text, so when there are as many of those as keys
    decoded, none was dropped; otherwise (a text holding `\":`, or a duplicate) decode again."""
    if len(_KEY.findall(raw)) == _keys(decoded):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        seen = set()
        for k, _ in items:
            if k in seen and not found:
                found.append(k)
            seen.add(k)
        return dict(items)

    json.loads(raw, object_pairs_hook=pairs)
    return found[0] if found else None


async def json_body(request: Request, *, limit: int | None = None) -> Any:
    """The request body as JSON, refusing another content type (415), oversized (413), malformed
    (400) and ambiguous bodies (400: a key written twice) (`limit`: bytes, default the setting
    `max_body_bytes`)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise ApiError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
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
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"malformed JSON: {exc}") from None
    twice = duplicate_key(raw, decoded)
    if twice is not None:
        raise ApiError(400, "duplicate_key", f"the key {twice!r} is written twice in one object: send it once")
    return decoded

