"""The FastAPI application: routers, error mapping, the platform's life."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from tianwang.api import collect, errors, events, health, holds, lists, monitor, network, records
from tianwang.console import api as console_api
from tianwang.console import cases_api as console_cases
from tianwang.console import pages as console_pages
from tianwang.console import policy_api as console_policy
from tianwang.console import read_api as console_read
from tianwang.console.auth import Throttle
from tianwang.config import Settings
from tianwang.events import EventIn
from tianwang.app import boot
from tianwang.app.platform import Platform


def create_app(settings: Settings | None = None, *, platform: Platform | None = None, owns_platform: bool = False) -> FastAPI:
    """An app over a platform it opens itself, or one given by the caller.

    The app closes (drains and checkpoints) the platform at shutdown when it opened it, or
    when told it owns it: uvicorn ends the process by re-raising SIGTERM after shutdown, so
    the lifespan is the last place a clean close can happen.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.platform = platform or boot.open(settings or Settings.from_env())
        yield
        waiter = getattr(app.state, "commit_waiter", None)
        if waiter is not None:
            waiter.close()
        if platform is None or owns_platform:
            app.state.platform.close()

    app = FastAPI(
        title="tianwang",
        version="0.1.0",
        description="Real-time anti-fraud decisions for consumer-credit lenders.",
        lifespan=lifespan,
    )
    app.state.signin_throttle = Throttle()  # failed console sign-ins, per (tenant, user), in this process
    if platform is not None:
        app.state.platform = platform
    errors.install(app)
    for module in (events, collect, records, holds, network, lists, monitor, health, console_api, console_read,
                   console_policy, console_cases, console_pages):
        app.include_router(module.router)
    _document_event_schema(app)
    return app


def _document_event_schema(app: FastAPI) -> None:
    from pydantic import TypeAdapter

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        defs = TypeAdapter(EventIn).json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(defs.pop("$defs", {}))
        components["Event"] = defs
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
