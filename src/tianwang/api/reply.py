"""JSON responses encoded by orjson: one place for the wire encoding."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


def reply(data: Any, status_code: int = 200, headers: dict | None = None) -> Response:
    """A JSON response (datetimes as ISO 8601)."""
    return Response(orjson.dumps(data), status_code=status_code, headers=headers, media_type="application/json")


def plain(value: Any) -> Any:
    """Database rows as JSON can take them: keys as plain `str` (SQLAlchemy's are a subclass)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
