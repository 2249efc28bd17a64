"""The database itself keeps the audit log append-only; hostile strings round-trip unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tianwang.store import audit, decisions, events, lists, policies, tenants
from tianwang.store.writer import GroupCommitWriter

from .helpers import decision_row, event_row

HOSTILE = [
    "'; DROP TABLE events; --",
    'Robert"); DROP TABLE audit_log;--',
    "O'Brien \"quoted\" `back` \\ backslash %s %(x)s :param ? $1",
    "天网恢恢，疏而不漏 🚨 نص عربي e\u0301 \u200b zero-width",
    "line\nbreak\ttab\r\n",
]
LONG = ("x'\"天" * 125)[:500]  # a 500-character string with quotes and unicode


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
])
def test_audit_log_refuses_update_and_delete(engine, statement):
    with engine.begin() as conn:
        audit.append_audit(conn, tenant="acme", actor="alice", action="list.add", target="d-1",
                           detail={"why": "test"})
    with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
        conn.rollback()
        [row] = audit.list_audit(conn)
    assert row["actor"] == "alice"


def test_audit_log_refuses_truncate_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with engine.begin() as conn:
        audit.append_audit(conn, tenant=None, actor="a", action="x", target="y", detail={})
    with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("TRUNCATE audit_log"))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_round_trip(engine, value):
    short = value[:60]
    with engine.begin() as conn:
        tenants.create_tenant(conn, id=short, name=value, api_key_hash=short)
        lists.upsert_entries(conn, tenant=short, entries=[
            {"list_type": "black", "entity": "device_id", "value": value, "reason": LONG,
             "source": value, "created_by": value}])
        version = policies.insert_version(conn, tenant=short, name=value, checksum=short,
                                          files={value: LONG, "a.yaml": value}, note=LONG,
                                          published_by=value)
        audit.append_audit(conn, tenant=short, actor=value, action=short, target=value,
                           detail={value: [value, LONG]})
    event = event_row(1, tenant=short, customer_id=value) | {"event_id": value}
    event["payload"] = {value: value, "long": LONG, "nul": "a\x00b", "nested": [{"k": value}]}
    with GroupCommitWriter(engine) as writer:
        writer.submit(event, decision_row(1, reasons=[value, LONG], values={value: LONG},
                                          strategy=value, fallback=value)).result(timeout=30)
    with engine.connect() as conn:
        assert tenants.get_tenant(conn, id=short)["name"] == value
        assert tenants.tenant_by_key_hash(conn, api_key_hash=short)["id"] == short
        [entry] = lists.all_entries(conn, tenant=short)
        assert (entry["value"], entry["reason"], entry["source"], entry["created_by"]) == (
            value, LONG, value, value)
        pv = policies.get_version(conn, tenant=short, version=version)
        assert (pv["name"], pv["note"], pv["files"]) == (value, LONG, {value: LONG, "a.yaml": value})
        [row] = audit.list_audit(conn, tenant=short)
        assert (row["actor"], row["target"], row["detail"]) == (value, value, {value: [value, LONG]})
        stored = events.get_event(conn, tenant=short, event_id=value)
        assert stored["customer_id"] == value and stored["payload"] == event["payload"]
        dec = decisions.get_decision(conn, tenant=short, event_id=value)
        assert (dec["reasons"], dec["values"], dec["strategy"], dec["fallback"]) == (
            [value, LONG], {value: LONG}, value, value)
        [line] = decisions.customer_timeline(conn, tenant=short, customer_id=value)
        assert line["event_id"] == value and line["strategy"] == value
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 1
    with engine.begin() as conn:
        lists.delete_entry(conn, tenant=short, list_type="black", entity="device_id", value=value)
