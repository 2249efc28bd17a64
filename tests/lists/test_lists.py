"""Lists: CSV import all-or-nothing with line numbers, the HTTP API, and hits as variables."""

from __future__ import annotations

from click.testing import CliRunner

from tianwang.cli import main
from tianwang.events import Hasher, normalise, parse_event
from tianwang.lists.index import ListIndex
from tests.factories import apply_event

GOOD = """list_type,entity,value,reason,source,expires_at
black,phone,13811112222,confirmed fraud case 17,case,
grey,device,dev-xyz,shared by many applicants,analyst,2099-01-01T00:00:00+08:00
black,id_number,110105197906054043,identity used by a ring,case,
white,card,6222025997169776269,VIP customer card,manual,
"""


def _env(tmp_path):
    return {"TIANWANG_DATA_DIR": str(tmp_path / "data"), "TIANWANG_PII_KEY": "k", "TIANWANG_API_KEY": "tw_lists_test_key_0123456789"}


def test_import_stores_hashes_not_clear_values(tmp_path):
    f = tmp_path / "lists.csv"
    f.write_text(GOOD)
    r = CliRunner().invoke(main, ["lists", "import", str(f)], env=_env(tmp_path))
    assert r.exit_code == 0, r.output
    assert "imported 4 entries" in r.output
    db = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("tianwang.db*"))
    assert b"13811112222" not in db and b"110105197906054043" not in db
    assert b"dev-xyz" in db  # device ids are not personal data


def test_a_bad_line_refuses_the_whole_file_and_names_each_line(tmp_path):
    bad = GOOD + "black,phone,12345,bad phone,case,\npurple,device,d1,what list,x,\nblack,device,,empty value,x,\n"
    bad += "black,phone,13811112222,same again,case,\n"
    f = tmp_path / "lists.csv"
    f.write_text(bad)
    r = CliRunner().invoke(main, ["lists", "import", str(f)], env=_env(tmp_path))
    assert r.exit_code == 1
    for line in ("line 6", "line 7", "line 8", "line 9"):
        assert line in r.output, r.output
    db = tmp_path / "data" / "tianwang.db"
    import sqlite3

    assert sqlite3.connect(db).execute("select count(*) from list_entries").fetchone()[0] == 0


def test_a_file_without_the_header_is_refused(tmp_path):
    f = tmp_path / "lists.csv"
    f.write_text("13811112222,black\n")
    r = CliRunner().invoke(main, ["lists", "import", str(f)], env=_env(tmp_path))
    assert r.exit_code == 1 and "header" in r.output


def test_list_index_matches_events_by_hash_and_respects_expiry():
    from tianwang.lists.index import normalise_entry

    hasher = Hasher(b"k")
    index = ListIndex()
    index.put("t", normalise_entry({"list_type": "black", "entity": "phone", "value": "13645313812", "reason": "x"}, hasher=hasher))
    index.put("t", normalise_entry({"list_type": "grey", "entity": "device", "value": "d-1", "reason": "x",
                                    "expires_at": "2026-01-01T00:00:00+00:00"}, hasher=hasher))
    from zoneinfo import ZoneInfo

    event = normalise(parse_event(apply_event("e", phone="13645313812", device_id="d-1")), hasher=hasher, tz=ZoneInfo("UTC"))
    assert index.contains("t", "black", "phone_hash", event["phone_hash"], event["ts"])
    assert not index.contains("other", "black", "phone_hash", event["phone_hash"], event["ts"])
    assert not index.contains("t", "grey", "device_id", "d-1", event["ts"]), "expired at event time"
    assert index.contains("t", "grey", "device_id", "d-1", 0)


def test_lists_over_http_all_or_nothing(tmp_path):
    from tests.serving import DEMO_KEY, Client, Server, open_runtime

    rt = open_runtime(tmp_path / "data", None)
    try:
        with Server(rt) as server, Client(server.url, DEMO_KEY) as api:
            r = api.post("/v1/lists", json={"entries": [
                {"list_type": "black", "entity": "device", "value": "dev-bad", "reason": "ring member"},
                {"list_type": "black", "entity": "phone", "value": "not-a-phone", "reason": "x"},
            ]})
            assert r.status_code == 422
            assert r.json()["error"]["detail"][0]["field"] == "entries[1].value"
            assert api.get("/v1/lists").json()["entries"] == []
            assert api.post("/v1/lists", json={"entries": "x"}).status_code == 422
            assert api.post("/v1/lists", content=b"{", headers={"content-type": "application/json"}).status_code == 400

            r = api.post("/v1/lists", json={"entries": [
                {"list_type": "black", "entity": "device", "value": "dev-bad", "reason": "ring member"}]})
            assert r.status_code == 201
            d = api.post("/v1/events", json=apply_event("l-1", device_id="dev-bad")).json()
            assert d["outcome"] == "reject", d
            assert any("black" in r["code"].lower() or "BLACK" in r["code"] for r in d["reasons"]), d["reasons"]

            assert api.delete("/v1/lists/black/device/dev-bad").status_code == 200
            assert api.delete("/v1/lists/black/device/dev-bad").status_code == 404
            d = api.post("/v1/events", json=apply_event("l-2", device_id="dev-bad", minute=5)).json()
            assert not any("BLACK" in r["code"] for r in d["reasons"]), d["reasons"]
    finally:
        rt.close()


def test_list_api_bad_input_stores_nothing(tmp_path):
    from tests.serving import DEMO_KEY, Client, Server, open_runtime

    rt = open_runtime(tmp_path / "data", None)
    try:
        with Server(rt) as server, Client(server.url, DEMO_KEY) as api:
            entry = {"list_type": "black", "entity": "device", "value": "dev-1", "reason": "ring"}
            cases = [
                ({"entries": [entry, dict(entry)]}, 422, "entries[1].value"),  # the same value twice
                ({"entries": [dict(entry, list_type="purple")]}, 422, "entries[0].list_type"),
                ({"entries": [dict(entry, value=12345)]}, 422, "entries[0].value"),
                ({"entries": [dict(entry, value="null")]}, 422, "entries[0].value"),
                ({"entries": [dict(entry, reason="")]}, 422, "entries[0].reason"),
                ({"entries": [dict(entry, expires_at="soon")]}, 422, "entries[0].expires_at"),
                ({"entries": [dict(entry, entity="spaceship")]}, 422, "entries[0].entity"),
                ({"entries": [dict(entry, value="x" * 300)]}, 422, "entries[0].value"),
                ({"entries": ["not an object"]}, 422, "entries[0]"),
            ]
            for body, status, field in cases:
                r = api.post("/v1/lists", json=body)
                assert r.status_code == status, (body, r.text)
                assert any(d["field"] == field for d in r.json()["error"]["detail"]), (field, r.json())
            big = {"entries": [dict(entry, value=f"d{i}", reason="r" * 200) for i in range(2000)]}
            assert api.post("/v1/lists", json=big).status_code == 413
            assert api.get("/v1/lists").json()["entries"] == []

            hostile = ["'; DROP TABLE list_entries; --", "<img src=x onerror=alert(1)>", "中文🙂"]
            r = api.post("/v1/lists", json={"entries": [dict(entry, value=h, reason=h) for h in hostile]})
            assert r.status_code == 201
            stored = api.get("/v1/lists", params={"list_type": "black"}).json()["entries"]
            assert sorted(e["value"] for e in stored) == sorted(hostile)
            assert api.get("/v1/decisions/%27%3B%20DROP%20TABLE%20events%3B--").status_code == 404
            assert api.get("/v1/customers/%3Cscript%3E/timeline").json()["items"] == []
    finally:
        rt.close()


def test_an_error_message_is_printed_as_written_not_as_terminal_markup(tmp_path):
    """Rich markup in what the user sent ([i], [red]) is shown, not swallowed (issue 16, item 19)."""
    f = tmp_path / "[bold]suspects.csv"
    f.write_text("list_type,entity,value,reason\n")
    r = CliRunner().invoke(main, ["lists", "import", str(f)], env=_env(tmp_path))
    assert r.exit_code == 1
    assert "[bold]suspects.csv: has no entries" in r.output, r.output


def test_a_placeholder_value_is_refused_not_listed(tmp_path):
    """Issue 16, item 18: events drop stand-in values before matching, so an entry on one never hits."""
    f = tmp_path / "lists.csv"
    f.write_text("list_type,entity,value,reason\nblack,phone,13800138000,a stand-in number\n"
                 "black,id_number,11010519491231002X,the standard's example\nblack,phone,13811112222,real\n")
    r = CliRunner().invoke(main, ["lists", "import", str(f)], env=_env(tmp_path))
    assert r.exit_code == 1
    assert "line 2.value" in r.output and "line 3.value" in r.output and "placeholder" in r.output, r.output
    assert "line 4" not in r.output
