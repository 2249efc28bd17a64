"""Numbers in paths and parameters that are digits to `str.isdigit()` but not to `int()` (the
superscripts ², ³): every one is a 4xx that names the parameter, never a 500 — on the key-only
routes, the console's, and the anonymous beacon endpoint."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.serving import DEMO_KEY, Client, Server
from tianwang.console.auth import hash_password
from tianwang.store import users as user_repo

SUP = "\u00b2"  # ²: isdigit() is True, int() raises


@pytest.fixture
def clients(runtime):
    with runtime.db.begin() as conn:
        user_repo.create_user(conn, tenant="demo", username="adm", password_hash=hash_password("correct horse battery"),
                              role="admin")
    with Server(runtime) as server, Client(server.url, DEMO_KEY) as api:
        console = httpx.Client(base_url=server.url, timeout=30)
        r = console.post("/console/api/signin", json={"tenant": "demo", "username": "adm",
                                                        "password": "correct horse battery"})
        console.headers["X-CSRF-Token"] = r.json()["csrf"]
        yield api, console
        console.close()


@pytest.mark.parametrize("method,path,params", [
    ("GET", f"/v1/rings/R00000{SUP}", None),
    ("POST", f"/v1/rings/R00000{SUP}/disposition", None),
    ("GET", "/v1/customers/c-1/timeline", {"cursor": f"1.{SUP}"}),
    ("GET", "/v1/customers/c-1/timeline", {"cursor": f"{SUP}.1"}),
    ("POST", f"/v1/interventions/{SUP}/result", None),
])
def test_a_superscript_digit_in_a_key_route_is_a_4xx(clients, method, path, params):
    api, _ = clients
    res = api.request(method, path, params=params, json={"disposition": "fraud", "actor": "x", "outcome": "confirmed"})
    assert 400 <= res.status_code < 500, (res.status_code, res.text)


@pytest.mark.parametrize("method,suffix", [("GET", ""), ("POST", "/assign"), ("POST", "/status"), ("POST", "/notes"),
                                           ("POST", "/dispose")])
def test_a_superscript_digit_in_a_case_id_is_a_4xx(clients, method, suffix):
    _, console = clients
    res = console.request(method, f"/console/api/cases/{SUP}{suffix}", json={"disposition": "fraud", "note": "x"})
    assert res.status_code == 422, (res.status_code, res.text)


@pytest.mark.parametrize("path", [f"/console/api/rings/R00000{SUP}", f"/console/api/rings/R00000{SUP}/disposition"])
def test_a_superscript_digit_in_a_console_ring_id_is_a_4xx(clients, path):
    _, console = clients
    res = console.request("POST" if path.endswith("disposition") else "GET", path, json={"disposition": "fraud"})
    assert 400 <= res.status_code < 500, (res.status_code, res.text)


def test_a_beacon_with_a_superscript_in_its_selector_is_no_server_error(clients):
    api, _ = clients
    now = int(time.time() * 1000)
    body = {"v": 1, "batch_id": str(uuid.uuid4()), "events": [
        {"type": "click", "ts": now, "url": "https://x/apply", "selector": f"form > button:nth-of-type({SUP})"}]}
    res = api.post("/v1/collect", params={"site": "demo"}, json=body, headers={"X-API-Key": ""})
    assert res.status_code < 500, (res.status_code, res.text)
