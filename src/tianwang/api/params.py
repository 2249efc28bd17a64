"""Reading what a request sends: query parameters and small JSON command bodies, each refused
in the project's error shape (`invalid_query` / `invalid_body`, 422) with the field named.

Parsed here rather than by FastAPI's validation, so every bad input answers like every other
error, and hostile text (control characters, huge strings) is refused before it is stored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import Request

from tianwang.api.errors import ApiError
from tianwang.timefmt import to_ms

INT = re.compile(r"[0-9]{1,9}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_param(request: Request, name: str) -> str | None:
    """The query parameter's one value (None when absent; a 422 when given more than once)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ApiError(422, "invalid_query", f"{name}: give it once", [{"field": name, "message": "given more than once"}])
    return values[0] if values else None


def int_param(request: Request, name: str, bounds: tuple[int, int, int]) -> int:
    lo, hi, default = bounds
    raw = one_param(request, name)
    if raw is None:
        return default
    message = f"must be a whole number from {lo} to {hi}"
    if not INT.fullmatch(raw) or not lo <= int(raw) <= hi:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise ApiError(422, "invalid_query", f"{name}: {message} (got {shown!r})", [{"field": name, "message": message}])
    return int(raw)



def timestamp_param(request: Request, name: str) -> int | None:
    """An ISO-8601 timestamp with its time zone, as epoch ms (None when not given)."""
    raw = one_param(request, name)
    if raw is None:
        return None
    message = "must be an ISO-8601 timestamp with a time zone, like 2026-11-25T10:00:00Z"
    at = None
    if 0 < len(raw) <= 64 and raw.isascii():
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            at = None
    if at is None or at.tzinfo is None or at.utcoffset() is None or not 1970 <= at.year <= 9998:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise ApiError(422, "invalid_query", f"{name}: {message} (got {shown!r})", [{"field": name, "message": message}])
    return to_ms(at)


def command(raw: Any, *, required: dict[str, int], optional: dict[str, int]) -> dict[str, str | None]:
    """A JSON object of short texts: each key's longest length; unknown keys, a missing required
    key, a non-string, an over-long text or a control character (other than tab and line
    break) are refused, naming every bad field."""
    if not isinstance(raw, dict):
        raise ApiError(422, "invalid_body", "send a JSON object")
    errors = [(k, "unknown field; allowed: " + ", ".join(sorted({**required, **optional})))
              for k in sorted(raw) if k not in required and k not in optional]
    out: dict[str, str | None] = {}
    for key, longest in {**required, **optional}.items():
        value = raw.get(key)
        if value is None:
            if key in required:
                errors.append((key, "is required"))
            out[key] = None
        elif not isinstance(value, str):
            errors.append((key, "must be a string"))
        elif key in required and not value.strip():
            errors.append((key, "must not be blank"))
        elif len(value) > longest:
            errors.append((key, f"at most {longest} characters"))
        elif _CONTROL.search(value):
            errors.append((key, "must not hold control characters"))
        else:
            out[key] = value
    if errors:
        detail = [{"field": f, "message": m} for f, m in errors]
        raise ApiError(422, "invalid_body", f"{errors[0][0]}: {errors[0][1]}", detail)
    return out


def choice(value: str | None, field: str, allowed: tuple[str, ...]) -> str | None:
    """`value` if it is one of `allowed` (or None), else a 422 naming the field."""
    if value is not None and value not in allowed:
        message = f"one of {', '.join(allowed)}"
        raise ApiError(422, "invalid_body", f"{field}: {message}", [{"field": field, "message": message}])
    return value
