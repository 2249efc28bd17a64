"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import text

from tianwang.api.deps import platform
from tianwang.api.reply import reply

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz() -> Response:
    return reply({"status": "ok"})


@router.get("/readyz", summary="Every dependency answers; which one does not")
def readyz(request: Request) -> Response:
    rt = platform(request)
    checks = {}
    try:
        with rt.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"down: {_why(exc)}"
    if rt.shared:  # server mode: the window state and the change log (one Redis)
        try:
            rt.live.state.ping()
            checks["state"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["state"] = f"down: {_why(exc)}"
        if rt.settings.stream and rt.settings.stream != rt.settings.state:  # the decided stream on a Redis of its own
            try:
                rt.feed.ping()
                checks["stream"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["stream"] = f"down: {_why(exc)}"
    ready = all(v == "ok" for v in checks.values())
    return reply({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)


def _why(exc: Exception) -> str:
    """The error's kind and first line, without the connection string a driver may quote."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__


@router.get("/metrics", summary="Prometheus text format")
def metrics(request: Request) -> Response:
    rt = platform(request)
    rt.metrics.state_series.set(rt.live.state.stats().series)
    rt.metrics.holds_open.set(sum(len(book) for book in list(rt.live.hold_books.values())))
    return Response(rt.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
