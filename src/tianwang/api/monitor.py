"""The monitoring cube over HTTP: a tenant's decisions by minute, hour or day of event time."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tianwang.api.deps import platform, tenant
from tianwang.api.errors import ApiError
from tianwang.api.params import one_param, timestamp_param
from tianwang.api.reply import reply
from tianwang.events import SCENES
from tianwang.tenants.service import Tenant
from tianwang.monitor.cube import MAX_BUCKETS, MINUTE_MS, STEPS, report
from tianwang.timefmt import iso

router = APIRouter(prefix="/v1", tags=["monitoring"])
DEFAULT_BUCKETS = 60


@router.get("/monitor/cube", summary="Decisions by time bucket: outcomes, rules fired, fallbacks, mean latency")
async def cube(
    request: Request,
    who: Tenant = Depends(tenant),
    step: str | None = Query(None, description="minute (default), hour or day"),
    from_: str | None = Query(None, alias="from", description="the first bucket's start, ISO-8601 with a time "
                                                               "zone (default: 60 buckets before `to`)"),
    to: str | None = Query(None, description="the end, exclusive (default: the end of the latest minute the "
                                             "cube holds for the tenant, in event time; now if it holds none)"),
    scene: str | None = Query(None, description="only this scene's decisions (default: every scene)"),
) -> Response:
    step = one_param(request, "step") or "minute"
    if step not in STEPS:
        raise ApiError(422, "invalid_query", f"step: one of {', '.join(STEPS)}", [{"field": "step", "message": "unknown"}])
    scene = one_param(request, "scene")
    if scene is not None and scene not in SCENES:
        raise ApiError(422, "invalid_query", f"scene: one of {', '.join(SCENES)}", [{"field": "scene", "message": "unknown"}])
    start, end = timestamp_param(request, "from"), timestamp_param(request, "to")
    width = STEPS[step]
    rt = platform(request)
    if end is None:
        newest = await run_in_threadpool(rt.cube.newest, who.id)
        if newest is None:  # nothing counted yet: the period up to now
            newest = int(time.time() * 1000) // MINUTE_MS
        latest = (newest + 1) * MINUTE_MS
        end = latest if start is None else max(latest, start + width)
    if start is None:
        start = end - DEFAULT_BUCKETS * width
    if start >= end:
        raise ApiError(422, "invalid_query", "from: must be before to", [{"field": "from", "message": "not before to"}])
    buckets = -(-(end - (start - start % width)) // width)
    if buckets > MAX_BUCKETS:
        message = f"at most {MAX_BUCKETS} buckets of a {step} (asked for {buckets}): a shorter period or a longer step"
        raise ApiError(422, "invalid_query", f"from: {message}", [{"field": "from", "message": message}])
    first, last = (start - start % width) // MINUTE_MS, (end - 1) // MINUTE_MS
    cells = await run_in_threadpool(rt.cube.cells, who.id, first, last)
    body = report(cells, start_ms=start, end_ms=end, step=step, scene=scene)
    # How current the cube is: decisions stored and not yet counted (server mode: the workers' lag).
    behind = await run_in_threadpool(rt.feed.behind)
    return reply({"tenant": who.id, "step": step, "from": iso(start), "to": iso(end), "scene": scene,
                  "behind": behind, **body})
