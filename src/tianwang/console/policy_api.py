"""The policy pages' API: the live bundle and its versions, and the analyst's loop on an edited
bundle — validate, diff, backtest against the live version, publish, roll back.

A publish or a rollback is a new stored version (policy/versions.py), audited with the person's
name, and made live in this process at once (other processes pick it up within two seconds), so
the next event is decided by it. The backtest simulates a small population (sim/) and replays it
through both bundles, each in a process of its own (backtest.py): the same walk, point-in-time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from rich.console import Console

from tianwang.api.deps import json_body, platform
from tianwang.api.errors import ApiError
from tianwang.api.params import int_param
from tianwang.api.reply import reply
from tianwang.console.auth import User, require
from tianwang.errors import NotFound
from tianwang.policy import versions
from tianwang.policy.bundle import MAX_FILES, compile_bundle
from tianwang.store import policies as policy_repo
from tianwang.timefmt import iso_dt

router = APIRouter(prefix="/console/api/policy", tags=["console"])
MAX_POLICY_BODY = 8 * 1024 * 1024
VERSION = (1, 1_000_000, 0)
CUSTOMERS = (100, 5000, 2000)
DAYS = (1, 7, 2)


def _when(v: Any) -> str | None:
    return iso_dt(v) if v is not None else None


def _version(row: dict) -> dict:
    return {"version": row["version"], "name": row["name"], "checksum": row["checksum"][:12], "note": row["note"],
            "published_at": _when(row["published_at"]), "published_by": row["published_by"]}


async def _files(request: Request) -> tuple[dict[str, str], dict]:
    raw = await json_body(request, limit=MAX_POLICY_BODY)
    files = raw.get("files") if isinstance(raw, dict) else None
    if not isinstance(files, dict) or not files or len(files) > MAX_FILES:
        raise ApiError(422, "invalid_body", f"send {{\"files\": {{path: yaml text}}}} (1 to {MAX_FILES} files)")
    for path, text in files.items():
        if not isinstance(path, str) or not path.endswith((".yaml", ".yml")) or ".." in path or path.startswith("/") \
                or not isinstance(text, str):
            raise ApiError(422, "invalid_body", f"files: {str(path)[:80]!r} is not a relative .yaml path with text",
                           [{"field": "files", "message": "relative .yaml paths, each with its text"}])
    return files, raw


@router.get("", summary="The live version and every version, newest first")
def policy(request: Request, user: User = Depends(require("console:read"))) -> Response:
    rt = platform(request)
    with rt.db.connect() as conn:
        live = versions.live(conn, tenant=user.tenant)
        rows = policy_repo.list_versions(conn, tenant=user.tenant)
    bundle, _ = rt.policies.bundle(user.tenant)
    return reply({"live": {**_version(live), "summary": bundle.summary()} if live else None,
                  "versions": [_version(r) for r in rows]})


@router.get("/files", summary="The files of a version (default: the live one)")
def policy_files(request: Request, user: User = Depends(require("console:read"))) -> Response:
    number = int_param(request, "version", VERSION)
    with platform(request).db.connect() as conn:
        row = (policy_repo.get_version(conn, tenant=user.tenant, version=number) if number
               else versions.live(conn, tenant=user.tenant))
    if row is None:
        raise NotFound(f"no version {number}")
    return reply({"version": row["version"], "files": row["files"]})


@router.post("/validate", summary="Validate an edited bundle: its summary, or 422 naming the file and key")
async def validate(request: Request, user: User = Depends(require("console:read"))) -> Response:
    files, _ = await _files(request)
    bundle = await run_in_threadpool(compile_bundle, files)
    return reply({"summary": bundle.summary()})


@router.post("/diff", summary="What an edited bundle changes against the live version")
async def diff(request: Request, user: User = Depends(require("console:read"))) -> Response:
    files, _ = await _files(request)
    with platform(request).db.connect() as conn:
        live = versions.live(conn, tenant=user.tenant)
    return reply({"diff": versions.diff(live["files"] if live else {}, files)})


@router.post("/backtest", summary="Backtest an edited bundle against the live one on a simulated population")
async def backtest(request: Request, user: User = Depends(require("policy:write"))) -> Response:
    files, raw = await _files(request)
    customers = _bounded(raw.get("customers", CUSTOMERS[2]), "customers", CUSTOMERS)
    days = _bounded(raw.get("days", DAYS[2]), "days", DAYS)
    compile_bundle(files)  # a broken bundle is a 422 before anything runs
    rt = platform(request)
    with rt.db.connect() as conn:
        live = versions.live(conn, tenant=user.tenant)
    result = await run_in_threadpool(run_backtest, files, live["files"] if live else None, customers, days)
    return reply(result)


def _bounded(value: Any, field: str, bounds: tuple[int, int, int]) -> int:
    lo, hi, _ = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ApiError(422, "invalid_body", f"{field}: a whole number from {lo} to {hi}",
                       [{"field": field, "message": f"from {lo} to {hi}"}])
    return value


def run_backtest(files: dict[str, str], live: dict[str, str] | None, customers: int, days: int) -> dict:
    """Simulate `customers` × `days` (seed 0) and replay it through `files` and the live files."""
    import orjson

    from tianwang.backtest import backtest as run
    from tianwang.sim.run import simulate

    with tempfile.TemporaryDirectory(prefix="tianwang-console-bt-") as tmp:
        root = Path(tmp)
        log = root / "events.jsonl"
        with log.open("wb") as out:
            for event in simulate(customers, days, 0):
                out.write(orjson.dumps(event) + b"\n")
        folders = {}
        for role, bundle_files in (("policy", files), ("against", live)):
            if bundle_files is None:
                continue
            folder = folders[role] = root / role
            for path, text in bundle_files.items():
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                (folder / path).write_text(text, encoding="utf-8")
        result = run(folders["policy"], log, against=folders.get("against"), console=Console(quiet=True))
    figures = result["policies"]
    return {"customers": customers, "days": days, "events": result["lines"],
            "figures": _brief(figures["policy"]), "against": _brief(figures["against"]) if "against" in figures else None}


def _brief(f: dict) -> dict:
    return {"events": f["events"], "outcomes": f["outcomes"], "targets": f["targets"],
            "review_per_day_mean": f["review_per_day_mean"], "money": {k: f["money"][k] for k in ("protected_yuan", "at_risk_yuan", "share")}}


@router.post("/publish", status_code=201, summary="Publish an edited bundle as the next version (live at once)")
async def publish(request: Request, user: User = Depends(require("policy:write"))) -> Response:
    files, raw = await _files(request)
    note = raw.get("note", "")
    if not isinstance(note, str) or len(note) > 512:
        raise ApiError(422, "invalid_body", "note: text of at most 512 characters")
    rt = platform(request)

    def store() -> int:
        with rt.db.begin() as conn:
            version, _ = versions.publish_files(conn, tenant=user.tenant, files=files, actor=f"console:{user.username}",
                                                note=note)
        rt.policies.published(user.tenant)
        return version

    return reply({"version": await run_in_threadpool(store)}, status_code=201)


@router.post("/rollback", status_code=201, summary="Make the previous version (or `to`) live again, as a new version")
async def rollback(request: Request, user: User = Depends(require("policy:write"))) -> Response:
    raw = await json_body(request)
    to = raw.get("to") if isinstance(raw, dict) else None
    if to is not None and (not isinstance(to, int) or isinstance(to, bool) or to < 1):
        raise ApiError(422, "invalid_body", "to: a version number")
    rt = platform(request)

    def store() -> tuple[int, int]:
        with rt.db.begin() as conn:
            made = versions.rollback(conn, tenant=user.tenant, actor=f"console:{user.username}", to=to)
        rt.policies.published(user.tenant)
        return made

    version, source = await run_in_threadpool(store)
    return reply({"version": version, "from": source}, status_code=201)
