"""The console's pages: `/console` (the single-page app built from console/web by `make console`)
and its assets. The app itself only ever talks to /console/api."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from tianwang.api.errors import ApiError

router = APIRouter(include_in_schema=False)
BUILT = Path(__file__).resolve().parents[1] / "static" / "console"
ASSETS = {"app.js": "application/javascript", "app.css": "text/css"}
# The app loads nothing from elsewhere and runs no inline script: a strict policy costs nothing.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                      "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def _file(name: str, media_type: str) -> Response:
    path = BUILT / name
    if not path.exists():
        raise ApiError(404, "not_built", "the console is not built on this server: run `make console`")
    return FileResponse(path, media_type=media_type, headers=HEADERS)


@router.get("/console")
def to_index() -> Response:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/")
def index() -> Response:
    return _file("index.html", "text/html; charset=utf-8")


@router.get("/console/{name}")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise ApiError(404, "not_found", "no such asset")
    return _file(name, ASSETS[name])
