"""Console sign-in, sessions, roles and CSRF through HTTP: enforced on the server."""

from __future__ import annotations

import httpx
import pytest

from tests.serving import DEMO_KEY, Server
from tianwang.console.auth import COOKIE, hash_password, make_session
from tianwang.store import audit as audit_repo
from tianwang.store import users as user_repo

PASSWORD = "correct horse battery"


@pytest.fixture
def people(runtime):
    with runtime.db.begin() as conn:
        for name, role in (("ana", "analyst"), ("ivy", "investigator"), ("adam", "admin"), ("gone", "analyst")):
            user_repo.create_user(conn, tenant="demo", username=name, password_hash=hash_password(PASSWORD), role=role)
        user_repo.set_user(conn, tenant="demo", username="gone", disabled=1)
    return runtime


@pytest.fixture
def console(people):
    with Server(people) as server:
        def session(name: str | None = None) -> httpx.Client:
            client = httpx.Client(base_url=server.url, timeout=30)
            if name:
                r = client.post("/console/api/signin", json={"tenant": "demo", "username": name, "password": PASSWORD})
                assert r.status_code == 200, r.text
                client.headers["X-CSRF-Token"] = r.json()["csrf"]
            return client
        yield session


def actions(rt) -> list[tuple[str, str, str]]:
    with rt.db.connect() as conn:
        return [(r["action"], r["actor"], r["target"]) for r in audit_repo.list_audit(conn, tenant="demo")]


def test_sign_in_me_and_sign_out(console, people):
    ivy = console("ivy")
    me = ivy.get("/console/api/me").json()
    assert me["username"] == "ivy" and me["role"] == "investigator" and "cases:work" in me["permissions"]
    assert "policy:write" not in me["permissions"]
    cookie = ivy.cookies.get(COOKIE)
    assert cookie and ivy.post("/console/api/signout").status_code == 200
    assert ivy.get("/console/api/me").status_code == 401
    assert ("console.signin", "console:ivy", "user:ivy") in actions(people)


@pytest.mark.parametrize("body", [
    {"tenant": "demo", "username": "ivy", "password": "wrong password"},
    {"tenant": "demo", "username": "nobody", "password": PASSWORD},
    {"tenant": "other", "username": "ivy", "password": PASSWORD},
    {"tenant": "demo", "username": "gone", "password": PASSWORD},  # disabled
])
def test_wrong_credentials_are_401_and_audited(console, people, body):
    r = console().post("/console/api/signin", json=body)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated" and COOKIE not in r.cookies
    with people.db.connect() as conn:
        failed = [(r["action"], r["target"]) for r in audit_repo.list_audit(conn, tenant=body["tenant"])]
    assert ("console.signin_failed", f"user:{body['username']}") in failed


@pytest.mark.parametrize("body", [
    {"tenant": "demo", "username": "ivy"},
    {"tenant": "demo", "username": "ivy\x00", "password": PASSWORD},
    {"tenant": "demo", "username": "ivy", "password": PASSWORD, "role": "admin"},
    ["demo", "ivy", PASSWORD],
])
def test_malformed_sign_ins_are_422(console, body):
    assert console().post("/console/api/signin", json=body).status_code == 422


def test_repeated_failures_lock_the_user(console):
    anon = console()
    for _ in range(5):
        assert anon.post("/console/api/signin", json={"tenant": "demo", "username": "ana", "password": "nope nope nope"}).status_code == 401
    r = anon.post("/console/api/signin", json={"tenant": "demo", "username": "ana", "password": PASSWORD})
    assert r.status_code == 429, r.text  # locked even with the right password


def test_a_change_without_the_csrf_token_is_refused(console):
    ivy = console("ivy")
    del ivy.headers["X-CSRF-Token"]
    r = ivy.post("/console/api/signout")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = ivy.post("/console/api/signout", headers={"X-CSRF-Token": "guessed"})
    assert r.status_code == 403
    assert ivy.get("/console/api/me").status_code == 200  # reading needs no token


def test_roles_are_enforced_on_the_server(console):
    assert console("ivy").get("/console/api/audit").status_code == 403
    assert console("ana").get("/console/api/audit").status_code == 403
    audit = console("adam").get("/console/api/audit")
    assert audit.status_code == 200 and audit.json()["items"], audit.text
    new = {"username": "newbie", "role": "investigator", "password": "a long enough password"}
    assert console("ana").post("/console/api/users", json=new).status_code == 403
    assert console("adam").post("/console/api/users", json=new).status_code == 201
    assert console("adam").post("/console/api/users", json=new).status_code == 409
    assert console("adam").post("/console/api/users", json={**new, "username": "x", "password": "short"}).status_code == 422
    assert console("adam").post("/console/api/users", json={**new, "username": "<b>x</b>"}).status_code == 422
    assert console("adam").post("/console/api/users", json={**new, "username": "y", "role": "root"}).status_code == 422
    assert console().get("/console/api/me").status_code == 401


def test_forged_expired_and_stale_sessions_are_refused(console, people):
    client = console()
    forged, _ = make_session(b"not the key" * 3, tenant="demo", username="adam", role="admin")
    client.cookies.set(COOKIE, forged)
    assert client.get("/console/api/me").status_code == 401
    expired, _ = make_session(people.console_key, tenant="demo", username="adam", role="admin", now=0)
    client.cookies.set(COOKIE, expired)
    assert client.get("/console/api/me").status_code == 401
    # A role changed since sign-in: the old session no longer works.
    promoted, _ = make_session(people.console_key, tenant="demo", username="ana", role="admin")
    client.cookies.set(COOKIE, promoted)
    assert client.get("/console/api/audit").status_code == 401
    client.cookies.set(COOKIE, "x" * 5000)
    assert client.get("/console/api/me").status_code == 401


def test_an_api_key_is_not_a_console_session(console):
    client = console()
    assert client.get("/console/api/me", headers={"X-API-Key": DEMO_KEY}).status_code == 401
