"""`tianwang tenants webhook`: set a tenant's webhook (printing a new secret once), refuse bad URLs, remove it."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli.test_cli import BIN, _env
from tianwang.store.audit import list_audit
from tianwang.store.db import make_engine, migrate
from tianwang.store.tenants import create_tenant, get_tenant


@pytest.fixture
def data(tmp_path):
    """The data folder of `_env(tmp_path)`, migrated, with a tenant `lender`; yields its engine."""
    engine = make_engine(None, tmp_path / "data")
    migrate(engine)
    with engine.begin() as conn:
        create_tenant(conn, id="lender", name="Lender", api_key_hash="h")
    yield engine
    engine.dispose()


def tw(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "tenants", "webhook", *args], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)


def stored(engine) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        t = get_tenant(conn, id="lender")
    return t["webhook_url"], t["webhook_secret"]


def test_set_prints_a_new_secret_once_and_stores_the_url(tmp_path, data):
    r = tw(tmp_path, "lender", "https://lender.example/hooks/tianwang")
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    assert len(secret) >= 40 and "\n" not in secret
    assert stored(data) == ("https://lender.example/hooks/tianwang", secret)
    with data.connect() as conn:
        [record] = [a for a in list_audit(conn, tenant="lender") if a["action"] == "tenant.webhook"]
    assert record["detail"] == {"url": "https://lender.example/hooks/tianwang"}
    assert secret not in str(record)

    again = tw(tmp_path, "lender", "http://10.0.0.5:8080/h", "--secret", "my-own-secret-of-24-chars")
    assert again.returncode == 0, again.stderr
    assert "my-own-secret" not in again.stdout + again.stderr, "a given secret is not echoed"
    assert stored(data) == ("http://10.0.0.5:8080/h", "my-own-secret-of-24-chars")


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "http://", "https://lender.example/" + "a" * 3000,
                                 "https://lender.example/a\nb"])
def test_a_bad_url_exits_2_and_stores_nothing(tmp_path, data, url):
    r = tw(tmp_path, "lender", url)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "URL" in r.stderr and r.stdout == ""
    assert stored(data) == (None, None)
    with data.connect() as conn:
        assert not [a for a in list_audit(conn, tenant="lender") if a["action"] == "tenant.webhook"]


def test_remove_clears_the_webhook(tmp_path, data):
    assert tw(tmp_path, "lender", "https://lender.example/h").returncode == 0
    r = tw(tmp_path, "lender", "--remove")
    assert r.returncode == 0, r.stderr
    assert stored(data) == (None, None)
    with data.connect() as conn:
        details = [a["detail"] for a in list_audit(conn, tenant="lender") if a["action"] == "tenant.webhook"]
    assert details == [{"url": None}, {"url": "https://lender.example/h"}]  # newest first
    assert tw(tmp_path, "lender", "https://lender.example/h", "--remove").returncode == 2
    assert tw(tmp_path, "lender").returncode == 2


def test_an_unknown_tenant_is_a_clear_error(tmp_path, data):
    r = tw(tmp_path, "nobody", "https://lender.example/h")
    assert r.returncode == 1
    assert "no tenant 'nobody'" in r.stderr and r.stdout == ""
    assert tw(tmp_path, "nobody", "--remove").returncode == 1
    with data.connect() as conn:
        assert get_tenant(conn, id="nobody") is None
        assert not [a for a in list_audit(conn) if a["action"] == "tenant.webhook"]
