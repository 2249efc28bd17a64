"""`tianwang users create`: a console user from the command line, the password never echoed."""

from __future__ import annotations

from click.testing import CliRunner

from tianwang.cli import main
from tianwang.console.auth import verify_password
from tianwang.store import users as user_repo
from tianwang.store.db import make_engine


def test_create_a_user_then_refuse_bad_ones(tmp_path):
    env = {"TIANWANG_DATA_DIR": str(tmp_path / "data"), "TIANWANG_PII_KEY": "k"}
    runner = CliRunner()
    assert runner.invoke(main, ["tenants", "create", "acme", "--name", "Acme"], env=env).exit_code == 0
    r = runner.invoke(main, ["users", "create", "ivy", "--role", "investigator", "--tenant", "acme", "--password-stdin"],
                      input="a long enough password\n", env=env)
    assert r.exit_code == 0 and "a long enough password" not in r.output, r.output
    with make_engine(None, tmp_path / "data").connect() as conn:
        row = user_repo.get_user(conn, tenant="acme", username="ivy")
    assert row["role"] == "investigator" and verify_password("a long enough password", row["password_hash"])
    for args, stdin in ((["ivy", "--role", "admin"], "another long password\n"),      # taken
                        (["bob", "--role", "admin"], "short\n"),                       # weak
                        (["<b>", "--role", "admin"], "a long enough password\n"),      # hostile name
                        (["bob", "--role", "root"], "a long enough password\n")):      # no such role
        r = runner.invoke(main, ["users", "create", *args, "--tenant", "acme", "--password-stdin"], input=stdin, env=env)
        assert r.exit_code != 0, (args, r.output)
    r = runner.invoke(main, ["users", "create", "bob", "--role", "admin", "--tenant", "nope", "--password-stdin"],
                      input="a long enough password\n", env=env)
    assert r.exit_code != 0 and "no tenant" in r.output
