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
    # A tenant that exists has the failure in its audit log; a made-up one gets no rows at all
    # (anyone could otherwise write audit rows for any tenant string: issue 16, item 13).
    assert (("console.signin_failed", f"user:{body['username']}") in failed) is (body["tenant"] == "demo")


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


def test_sign_out_ends_the_session_on_the_server(console):
    """A copy of the cookie taken before sign-out is refused after it (issue 16, item 15)."""
    ivy = console("ivy")
    stolen = httpx.Client(base_url=str(ivy.base_url), cookies={COOKIE: ivy.cookies.get(COOKIE)}, timeout=30)
    assert stolen.get("/console/api/me").status_code == 200
    assert ivy.post("/console/api/signout").status_code == 200
    assert stolen.get("/console/api/me").status_code == 401
    assert console("ivy").get("/console/api/me").status_code == 200  # signing in again works


def test_failures_from_elsewhere_do_not_lock_a_user_out(console):
    """Five wrong passwords for a named admin from another client leave the admin's own sign-in open."""
    base = str(console().base_url)
    elsewhere = httpx.Client(base_url=base, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    for _ in range(6):
        elsewhere.post("/console/api/signin", json={"tenant": "demo", "username": "adam", "password": "not it, sorry"})
    r = console().post("/console/api/signin", json={"tenant": "demo", "username": "adam", "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_spraying_user_names_from_one_client_is_throttled(console):
    anon = console()
    codes = [anon.post("/console/api/signin", json={"tenant": "demo", "username": f"u{i}", "password": "guess guess"}).status_code
             for i in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429, codes


def test_sign_in_only_as_json(console):
    """A cross-site form can post text/plain; sign-in refuses it (no login CSRF)."""
    r = console().post("/console/api/signin", content=b'{"tenant":"demo","username":"ivy","password":"correct horse battery"}',
                       headers={"content-type": "text/plain"})
    assert r.status_code == 415 and COOKIE not in r.cookies


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


def test_behind_a_tls_proxy_the_session_cookie_can_be_marked_secure(tmp_path):
    from tests.serving import Client, open_runtime

    rt = open_runtime(tmp_path / "data", None, cookie_secure=True)
    try:
        with rt.db.begin() as conn:
            user_repo.create_user(conn, tenant="demo", username="ivy", password_hash=hash_password(PASSWORD),
                                  role="investigator")
        with Server(rt) as server, Client(server.url, None) as client:
            r = client.post("/console/api/signin", json={"tenant": "demo", "username": "ivy", "password": PASSWORD})
            assert r.status_code == 200 and "secure" in r.headers["set-cookie"].lower(), r.headers.get("set-cookie")
    finally:
        rt.close()


def test_the_secure_cookie_setting_reads_like_a_switch():
    from tianwang.config import Settings

    assert Settings.from_env({"TIANWANG_COOKIE_SECURE": "true"}).cookie_secure is True
    assert Settings.from_env({"TIANWANG_COOKIE_SECURE": "off"}).cookie_secure is False
    with pytest.raises(SystemExit):
        Settings.from_env({"TIANWANG_COOKIE_SECURE": "maybe"})
