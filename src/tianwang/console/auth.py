"""Who is at the console: passwords, sessions, roles and CSRF, checked on the server.

- **Passwords** are hashed with scrypt (the standard library's, n=2^14, r=8, p=1, a 16-byte salt).
- **A session** is a cookie `tw_session` (HttpOnly, SameSite=Strict, Secure behind HTTPS) holding
  the tenant, user, role, expiry and a CSRF token, signed with HMAC-SHA256 under a key kept in
  the data folder (`console.key`). It is checked on every request against the user's record, so
  a disabled user or a changed role takes effect at once.
- **CSRF**: every request that changes something must send the session's token in
  `X-CSRF-Token` (the page reads it from `GET /console/api/me`); a cross-site form cannot.
- **Roles** grant permissions (`PERMISSIONS`); a route asks for one with `require("cases:work")`
  and answers 401 without a session, 403 without the permission.
- Repeated failed sign-ins of a user lock it for `LOCK_S` seconds (the failures are audited).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

import orjson
from fastapi import Request

from tianwang.api.errors import ApiError
from tianwang.store import users as user_repo

ROLES = ("analyst", "investigator", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "console:read": frozenset(ROLES),          # decisions, customers, rings, cases (reading)
    "cases:work": frozenset({"investigator", "admin"}),   # assign, note, dispose, ring dispositions
    "policy:write": frozenset({"analyst", "admin"}),      # edit, backtest, publish, roll back
    "lists:write": frozenset({"analyst", "investigator", "admin"}),
    "audit:read": frozenset({"admin"}),
    "users:manage": frozenset({"admin"}),
}
COOKIE = "tw_session"
SESSION_S = 8 * 3600
FAILURES, LOCK_S = 5, 300
SPRAY = 20  # failed sign-ins of one client, whatever the user names, before it waits LOCK_S
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class User:
    tenant: str
    username: str
    role: str
    csrf: str

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


# ------------------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def password_problem(password: str) -> str | None:
    if not isinstance(password, str) or len(password) < 10:
        return "at least 10 characters"
    if len(password) > 256:
        return "at most 256 characters"
    return None


# ------------------------------------------------------------------------------- sessions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_session(key: bytes, *, tenant: str, username: str, role: str, now: float | None = None) -> tuple[str, User]:
    csrf = secrets.token_urlsafe(24)
    at = time.time() if now is None else now
    body = _b64(orjson.dumps({"t": tenant, "u": username, "r": role, "x": int(at + SESSION_S), "c": csrf,
                              "i": int(at * 1000)}))
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}", User(tenant, username, role, csrf)


def read_session(key: bytes, cookie: str | None, *, now: float | None = None) -> dict | None:
    """The session's claims, or None for a missing, forged, malformed or expired cookie."""
    if not cookie or len(cookie) > 1024 or cookie.count(".") != 1:
        return None
    body, mac = cookie.split(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        claims = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or claims.get("x", 0) < (time.time() if now is None else now):
        return None
    return claims


class Throttle:
    """Failed sign-ins per key: after FAILURES within LOCK_S, refused until LOCK_S passes. The
    console keys it by (tenant, user, client), so nobody locks out a named user from elsewhere,
    and by client alone (SPRAY failures, any user names), so one client cannot spray names."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, key: tuple[str, ...], limit: int = FAILURES) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < LOCK_S]
            if recent:
                self._failures[key] = recent
            else:
                self._failures.pop(key, None)  # a quiet key is forgotten: the map does not grow with names
            return len(recent) >= limit

    def failed(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(time.monotonic())

    def passed(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._failures.pop(key, None)


# ------------------------------------------------------------------------------- the dependency


def current_user(request: Request) -> User:
    """The signed-in user of the request (401 without a valid session; CSRF checked on changes)."""
    rt = request.app.state.platform
    claims = read_session(rt.console_key, request.cookies.get(COOKIE))
    if claims is None:
        raise ApiError(401, "unauthenticated", "sign in at /console")
    with rt.db.connect() as conn:
        row = user_repo.get_user(conn, tenant=claims["t"], username=claims["u"])
    if row is None or row["disabled"] or row["role"] != claims["r"]:
        raise ApiError(401, "unauthenticated", "the session is no longer valid: sign in again")
    if row.get("sessions_after") is not None and claims.get("i", 0) <= row["sessions_after"]:
        raise ApiError(401, "unauthenticated", "signed out: sign in again")
    user = User(claims["t"], claims["u"], claims["r"], claims["c"])
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), user.csrf.encode()):
            raise ApiError(403, "csrf", "missing or wrong X-CSRF-Token (read it from GET /console/api/me)")
    return user


def require(permission: str) -> Callable[[Request], User]:
    """A FastAPI dependency: the signed-in user, who must hold `permission` (403 otherwise)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def dependency(request: Request) -> User:
        user = current_user(request)
        if not user.can(permission):
            raise ApiError(403, "forbidden", f"your role ({user.role}) may not do this ({permission})")
        return user

    return dependency
