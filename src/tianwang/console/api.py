"""The console's own API (`/console/api/…`): sign in and out, who am I, the audit log, users.

Authenticated by the session cookie (console/auth.py), never by an API key: these are people.
Every change is audited with the person's name. Routes of the case work live in cases_api.py.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tianwang.api.deps import json_body, platform
from tianwang.api.errors import ApiError
from tianwang.api.params import choice, command, int_param
from tianwang.api.reply import reply
from tianwang.console.auth import (COOKIE, ROLES, SESSION_S, SPRAY, User, current_user, hash_password, make_session,
                                   password_problem, require, verify_password)
from tianwang.store import audit as audit_repo
from tianwang.store import users as user_repo
from tianwang.tenants import service as tenants
from tianwang.timefmt import iso_dt

router = APIRouter(prefix="/console/api", tags=["console"])
LIMIT = (1, 500, 100)
_DUMMY = hash_password("no such user, no such password")
AFTER = (0, 999_999_999, 0)


def _audit(rt, user: User | None, action: str, target: str, detail: dict, *, tenant: str | None = None) -> None:
    with rt.db.begin() as conn:
        audit_repo.append_audit(conn, tenant=tenant or user.tenant, actor=f"console:{user.username}" if user else "console",
                                action=action, target=target, detail=detail)


@router.post("/signin", summary="Sign in with a tenant, a user name and a password: sets the session cookie")
async def signin(request: Request) -> Response:
    rt = platform(request)
    fields = command(await json_body(request), required={"tenant": 64, "username": 64, "password": 256}, optional={})
    client = request.client.host if request.client else "?"
    key = (fields["tenant"], fields["username"], client)  # a user from this client: no lock-out from elsewhere
    spray = ("*", client)  # this client, whatever names it tries
    throttle = request.app.state.signin_throttle

    def check() -> dict | None:
        if throttle.locked(key) or throttle.locked(spray, SPRAY):
            return None
        with rt.db.connect() as conn:
            row = user_repo.get_user(conn, tenant=key[0], username=key[1])
        # An unknown user costs the same scrypt as a known one: timing tells no names.
        ok = verify_password(fields["password"], row["password_hash"] if row is not None else _DUMMY)
        ok = ok and row is not None and not row["disabled"]
        return row if ok else {}

    row = await run_in_threadpool(check)
    if row is None:
        raise ApiError(429, "locked", "too many failed sign-ins: wait five minutes")
    if not row:
        throttle.failed(key)
        throttle.failed(spray)
        if rt.tenants.by_id(key[0]) is not None:  # no audit rows for made-up tenants
            await run_in_threadpool(_audit, rt, None, "console.signin_failed", f"user:{key[1]}", {}, tenant=key[0])
        raise ApiError(401, "unauthenticated", "wrong tenant, user name or password")
    throttle.passed(key)
    cookie, user = make_session(rt.console_key, tenant=row["tenant"], username=row["username"], role=row["role"])
    await run_in_threadpool(_audit, rt, user, "console.signin", f"user:{user.username}", {"role": user.role})
    response = reply({"tenant": user.tenant, "username": user.username, "role": user.role, "csrf": user.csrf})
    response.set_cookie(COOKIE, cookie, max_age=SESSION_S, httponly=True, samesite="strict",
                        secure=rt.settings.cookie_secure or request.url.scheme == "https", path="/")
    return response


@router.post("/signout", summary="Sign out: every session of the user ends, on the server, and the cookie is cleared")
def signout(request: Request, user: User = Depends(current_user)) -> Response:
    rt = platform(request)
    with rt.db.begin() as conn:
        user_repo.set_user(conn, tenant=user.tenant, username=user.username, sessions_after=int(time.time() * 1000))
    _audit(rt, user, "console.signout", f"user:{user.username}", {})
    response = reply({"signed_out": True})
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", summary="The signed-in user, their permissions and the CSRF token to send with changes")
def me(user: User = Depends(current_user)) -> Response:
    from tianwang.console.auth import PERMISSIONS

    return reply({"tenant": user.tenant, "username": user.username, "role": user.role, "csrf": user.csrf,
                  "permissions": sorted(p for p, roles in PERMISSIONS.items() if user.role in roles)})


@router.get("/audit", summary="The tenant's audit log, newest first (admins)")
def audit(request: Request, user: User = Depends(require("audit:read"))) -> Response:
    limit, before = int_param(request, "limit", LIMIT), int_param(request, "before", AFTER)
    with platform(request).db.connect() as conn:
        rows = audit_repo.list_audit(conn, tenant=user.tenant, limit=limit, before_id=before or None)
    items = [{"id": r["id"], "at": iso_dt(r["at"]), "actor": r["actor"],
              "action": r["action"], "target": r["target"], "detail": r["detail"]} for r in rows]
    return reply({"items": items, "next_before": items[-1]["id"] if len(items) == limit else None})


@router.get("/users", summary="The tenant's console users (admins)")
def users(request: Request, user: User = Depends(require("users:manage"))) -> Response:
    with platform(request).db.connect() as conn:
        rows = user_repo.list_users(conn, tenant=user.tenant)
    return reply({"items": [{"username": r["username"], "role": r["role"], "disabled": bool(r["disabled"]),
                             "created_at": r["created_at"].isoformat()} for r in rows]})


@router.post("/users", status_code=201, summary="Add a console user (admins)")
async def add_user(request: Request, user: User = Depends(require("users:manage"))) -> Response:
    fields = command(await json_body(request), required={"username": 64, "role": 16, "password": 256}, optional={})
    choice(fields["role"], "role", ROLES)
    problem = password_problem(fields["password"])
    if problem:
        raise ApiError(422, "invalid_body", f"password: {problem}", [{"field": "password", "message": problem}])
    username = fields["username"]
    if not username.replace(".", "").replace("_", "").replace("-", "").isalnum() or not username.isascii():
        raise ApiError(422, "invalid_body", "username: letters, digits and . _ -",
                       [{"field": "username", "message": "letters, digits and . _ -"}])
    db = platform(request).db
    await run_in_threadpool(lambda: tenants.add_user(db=db, tenant=user.tenant, username=username,
                                                     password_hash=hash_password(fields["password"]),
                                                     role=fields["role"], actor=f"console:{user.username}"))
    return reply({"username": username, "role": fields["role"]}, status_code=201)
