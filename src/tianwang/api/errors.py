"""Every domain error mapped to its HTTP status and JSON body, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from tianwang.api.reply import reply
from tianwang.errors import Conflict, NotFound, PolicyError, StoreUnavailable, TianwangError
from tianwang.events import EventError
from tianwang.lists.index import ListError
from tianwang.state.base import StateError

STATUS = {
    EventError: 422,
    ListError: 422,
    PolicyError: 422,
    NotFound: 404,
    Conflict: 409,
    StoreUnavailable: 503,
    StateError: 503,
}


class ApiError(Exception):
    """An error the HTTP layer raises itself (auth, size, JSON)."""

    def __init__(self, status: int, code: str, message: str, detail: list | None = None):
        self.status, self.code, self.message, self.detail = status, code, message, detail or []


def body(code: str, message: str, detail: list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "detail": detail or []}}


def error_payload(exc: Exception) -> tuple[int, dict]:
    """(status, body) for any error; used for single requests and per batch item alike."""
    if isinstance(exc, ApiError):
        return exc.status, body(exc.code, exc.message, exc.detail)
    if isinstance(exc, (EventError, ListError)):
        detail = [{"field": f, "message": m} for f, m in exc.errors]
        first = detail[0]
        return 422, body("invalid_event" if isinstance(exc, EventError) else "invalid_list_entry",
                         f"{first['field'] or 'body'}: {first['message']}", detail)
    if isinstance(exc, PolicyError):
        return 422, body(exc.code, str(exc), [{"field": exc.where, "message": exc.message}])
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return status, body(getattr(exc, "code", "error"), str(exc))
    return 500, body("internal", "internal error; the event was not stored")


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        status, payload = error_payload(exc)
        metrics = getattr(request.app.state, "platform", None)
        if metrics is not None:
            metrics.metrics.rejected.labels(payload["error"]["code"]).inc()
        headers = {"Retry-After": "1"} if status == 503 else None
        return reply(payload, status_code=status, headers=headers)

    for kind in (ApiError, TianwangError, EventError, ListError):
        app.add_exception_handler(kind, handler)
