"""Round trips of every repository function, on each backend."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest

from tianwang.errors import Conflict, NotFound
from tianwang.store import audit, decisions, events, lists, policies, tenants
from tianwang.store.writer import GroupCommitWriter

from .helpers import decision_row, event_row


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset().total_seconds() == 0


def _write(engine, pairs):
    with GroupCommitWriter(engine) as writer:
        futures = [writer.submit(e, d) for e, d in pairs]
        return [f.result(timeout=30) for f in futures]


# tenants


def test_tenants_round_trip(engine):
    key_hash = hashlib.sha256(b"secret-key").hexdigest()
    with engine.begin() as conn:
        created = tenants.create_tenant(conn, id="acme", name="Acme Finance", api_key_hash=key_hash)
        tenants.create_tenant(conn, id="beta", name="Beta", api_key_hash="0" * 64)
    with engine.connect() as conn:
        got = tenants.get_tenant(conn, id="acme")
        assert got == created
        assert _aware(got["created_at"])
        assert tenants.tenant_by_key_hash(conn, api_key_hash=key_hash)["id"] == "acme"
        assert tenants.tenant_by_key_hash(conn, api_key_hash="f" * 64) is None
        assert tenants.get_tenant(conn, id="nope") is None
        assert [t["id"] for t in tenants.list_tenants(conn)] == ["acme", "beta"]


def test_duplicate_tenant_is_a_conflict_and_leaves_the_transaction_usable(engine):
    with engine.begin() as conn:
        tenants.create_tenant(conn, id="acme", name="A", api_key_hash="a" * 64)
    with engine.begin() as conn:
        with pytest.raises(Conflict):
            tenants.create_tenant(conn, id="acme", name="B", api_key_hash="b" * 64)
        with pytest.raises(Conflict):
            tenants.create_tenant(conn, id="other", name="C", api_key_hash="a" * 64)
        tenants.create_tenant(conn, id="other", name="C", api_key_hash="c" * 64)
    with engine.connect() as conn:
        assert [t["name"] for t in tenants.list_tenants(conn)] == ["A", "C"]


def test_set_api_key_hash(engine):
    with engine.begin() as conn:
        tenants.create_tenant(conn, id="acme", name="A", api_key_hash="a" * 64)
        tenants.create_tenant(conn, id="beta", name="B", api_key_hash="b" * 64)
        tenants.set_api_key_hash(conn, id="acme", api_key_hash="c" * 64)
        tenants.set_api_key_hash(conn, id="acme", api_key_hash="c" * 64)
        with pytest.raises(Conflict):
            tenants.set_api_key_hash(conn, id="acme", api_key_hash="b" * 64)
        with pytest.raises(NotFound):
            tenants.set_api_key_hash(conn, id="nope", api_key_hash="d" * 64)
    with engine.connect() as conn:
        assert tenants.tenant_by_key_hash(conn, api_key_hash="c" * 64)["id"] == "acme"
        assert tenants.tenant_by_key_hash(conn, api_key_hash="a" * 64) is None


def test_create_tenant_is_rolled_back_with_the_callers_transaction(engine):
    with engine.connect() as conn:
        tenants.create_tenant(conn, id="acme", name="A", api_key_hash="a" * 64)
        conn.rollback()
        assert tenants.list_tenants(conn) == []


# events and decisions


def test_get_event_and_decision(engine):
    [seq] = _write(engine, [(event_row(1, ip="10.0.0.1"), decision_row(
        1, outcome="review", fallback="model timed out", delay_until="2024-05-01T10:00:00Z"))])
    with engine.connect() as conn:
        ev = events.get_event(conn, tenant="acme", event_id="ev-1")
        assert ev["seq"] == seq
        assert ev["payload"] == {"device_id": "d-1", "amount": 101, "ip": "10.0.0.1"}
        assert ev["ts"] == 1_700_000_001_000 and _aware(ev["received_at"])
        dec = decisions.get_decision(conn, tenant="acme", event_id="ev-1")
        assert dec["outcome"] == "review" and dec["score"] == 1
        assert dec["reasons"] == ["R1"] and dec["interventions"] == ["sms"]
        assert dec["values"] == {"cnt_device_1h": 1, "ratio": 0.5}
        assert dec["policy_version"] == 3 and dec["strategy"] == "drawdown.v3"
        assert dec["shadow"] is None and dec["fallback"] == "model timed out"
        assert dec["delay_until"] == "2024-05-01T10:00:00Z" and dec["latency_us"] == 900
        assert (dec["customer_id"], dec["scene"], dec["ts"]) == ("c-1", "drawdown", ev["ts"])
        assert _aware(dec["decided_at"])
        assert events.get_event(conn, tenant="other", event_id="ev-1") is None
        assert decisions.get_decision(conn, tenant="acme", event_id="ev-2") is None


def test_shadow_results_round_trip(engine):
    shadow = [{"strategy": "drawdown.v4", "outcome": "reject", "reasons": ["R9"]}]
    _write(engine, [(event_row(1), decision_row(1, shadow=shadow))])
    with engine.connect() as conn:
        assert decisions.get_decision(conn, tenant="acme", event_id="ev-1")["shadow"] == shadow


def test_max_seq_and_iter_events_in_batches(engine):
    with engine.connect() as conn:
        assert events.max_seq(conn) == 0
    pairs = [(event_row(i, tenant="acme" if i % 3 else "beta"), decision_row(i)) for i in range(10)]
    seqs = _write(engine, pairs)
    with engine.connect() as conn:
        assert events.max_seq(conn) == seqs[-1]
    every = list(events.iter_events(engine, batch=3))
    assert [e["seq"] for e in every] == seqs
    assert [e["event_id"] for e in every] == [f"ev-{i}" for i in range(10)]
    assert every[4]["payload"] == pairs[4][0]["payload"]
    acme = list(events.iter_events(engine, tenant="acme", batch=2))
    assert [e["event_id"] for e in acme] == [f"ev-{i}" for i in range(10) if i % 3]
    tail = list(events.iter_events(engine, after_seq=seqs[6], batch=100))
    assert [e["seq"] for e in tail] == seqs[7:]
    assert list(events.iter_events(engine, after_seq=seqs[-1])) == []


def test_customer_timeline_newest_first_with_keyset_pages(engine):
    # Six events of c-1 (two pairs share a ts), one of c-2, one of c-1 at another tenant.
    ts = [1000, 2000, 2000, 3000, 4000, 4000]
    pairs = [(event_row(i, ts=t), decision_row(i)) for i, t in enumerate(ts)]
    pairs.append((event_row(10, customer_id="c-2"), decision_row(10)))
    pairs.append((event_row(11, tenant="beta"), decision_row(11)))
    _write(engine, pairs)
    with engine.connect() as conn:
        full = decisions.customer_timeline(conn, tenant="acme", customer_id="c-1")
        assert [r["event_id"] for r in full] == ["ev-5", "ev-4", "ev-3", "ev-2", "ev-1", "ev-0"]
        first = full[0]
        assert first["payload"] == pairs[5][0]["payload"]
        decision = decisions.get_decision(conn, tenant="acme", event_id="ev-5")
        for name in ("outcome", "score", "reasons", "interventions", "values", "policy_version",
                     "strategy", "shadow", "fallback", "delay_until", "latency_us", "decided_at"):
            assert first[name] == decision[name], name
        assert first["seq"] == full[0]["seq"] and first["body_hash"] == pairs[5][0]["body_hash"]
        pages, before = [], {}
        while True:
            page = decisions.customer_timeline(conn, tenant="acme", customer_id="c-1", limit=2, **before)
            if not page:
                break
            pages.append([r["event_id"] for r in page])
            before = {"before_ts": page[-1]["ts"], "before_seq": page[-1]["seq"]}
        assert pages == [["ev-5", "ev-4"], ["ev-3", "ev-2"], ["ev-1", "ev-0"]]
        older = decisions.customer_timeline(conn, tenant="acme", customer_id="c-1", before_ts=3000)
        assert [r["event_id"] for r in older] == ["ev-2", "ev-1", "ev-0"]


def test_timeline_shows_an_event_without_decision(engine):
    _write(engine, [(event_row(1), None)])
    with engine.connect() as conn:
        [row] = decisions.customer_timeline(conn, tenant="acme", customer_id="c-1")
        assert row["event_id"] == "ev-1" and row["payload"]["device_id"] == "d-1"
        assert row["outcome"] is None and row["reasons"] is None and row["decided_at"] is None


# lists


def test_list_entries_upsert_delete_all(engine):
    with engine.begin() as conn:
        n = lists.upsert_entries(conn, tenant="acme", entries=[
            {"list_type": "black", "entity": "device_id", "value": "d-1", "reason": "fraud case 7",
             "source": "case:7", "expires_at": None, "created_by": "alice"},
            {"list_type": "grey", "entity": "phone_hash", "value": "ab12", "reason": "",
             "source": "import", "expires_at": 1_800_000_000_000},
        ])
        assert n == 2
        lists.upsert_entries(conn, tenant="beta", entries=[
            {"list_type": "white", "entity": "device_id", "value": "d-1"}])
    with engine.begin() as conn:
        lists.upsert_entries(conn, tenant="acme", entries=[
            {"list_type": "black", "entity": "device_id", "value": "d-1", "reason": "confirmed",
             "source": "case:9", "expires_at": 1_900_000_000_000, "created_by": "bob"}])
    with engine.connect() as conn:
        acme = lists.all_entries(conn, tenant="acme")
        assert [(e["list_type"], e["entity"], e["value"]) for e in acme] == [
            ("black", "device_id", "d-1"), ("grey", "phone_hash", "ab12")]
        black = acme[0]
        assert (black["reason"], black["source"], black["expires_at"]) == ("confirmed", "case:9",
                                                                             1_900_000_000_000)
        assert black["created_by"] == "alice" and _aware(black["created_at"])
        assert acme[1]["expires_at"] == 1_800_000_000_000
        assert len(lists.all_entries(conn)) == 3
    with engine.begin() as conn:
        key = {"list_type": "black", "entity": "device_id", "value": "d-1"}
        assert lists.delete_entry(conn, tenant="acme", **key) is True
        assert lists.delete_entry(conn, tenant="acme", **key) is False
    with engine.connect() as conn:
        assert [e["value"] for e in lists.all_entries(conn, tenant="acme")] == ["ab12"]
        assert lists.upsert_entries(conn, tenant="acme", entries=[]) == 0


def test_list_type_is_checked(engine):
    with engine.begin() as conn, pytest.raises(ValueError):
        lists.upsert_entries(conn, tenant="acme", entries=[
            {"list_type": "purple", "entity": "ip", "value": "1.2.3.4"}])


# policies


def test_policy_versions_number_per_tenant(engine):
    files_v1 = {"variables.yaml": "vars: []\n", "strategies/drawdown.yaml": "rules: []\n"}
    files_v2 = {"variables.yaml": "vars: [x]\n"}
    with engine.begin() as conn:
        assert policies.latest_version(conn, tenant="acme") is None
        v1 = policies.insert_version(conn, tenant="acme", name="default", checksum="c1",
                                     files=files_v1, note="first", published_by="alice")
        v2 = policies.insert_version(conn, tenant="acme", name="default", checksum="c2",
                                     files=files_v2, note="tighten", published_by="bob")
        other = policies.insert_version(conn, tenant="beta", name="default", checksum="c1",
                                        files=files_v1, note="", published_by="carol")
    assert (v1, v2, other) == (1, 2, 1)
    with engine.begin() as conn:  # rollback = the old content published as a new version
        old = policies.get_version(conn, tenant="acme", version=1)
        v3 = policies.insert_version(conn, tenant="acme", name=old["name"], checksum=old["checksum"],
                                     files=old["files"], note="rollback to 1", published_by="bob")
    assert v3 == 3
    with engine.connect() as conn:
        live = policies.latest_version(conn, tenant="acme")
        assert live["version"] == 3 and live["files"] == files_v1 and live["note"] == "rollback to 1"
        assert _aware(live["published_at"])
        assert policies.get_version(conn, tenant="acme", version=2)["files"] == files_v2
        assert policies.get_version(conn, tenant="acme", version=9) is None
        listed = policies.list_versions(conn, tenant="acme")
        assert [v["version"] for v in listed] == [3, 2, 1]
        assert "files" not in listed[0] and listed[1]["published_by"] == "bob"


# audit


def test_audit_append_and_page(engine):
    with engine.begin() as conn:
        ids = [audit.append_audit(conn, tenant="acme" if i % 2 else None, actor="alice",
                                  action="policy.publish", target=f"v{i}", detail={"i": i})
               for i in range(5)]
    with engine.connect() as conn:
        rows = audit.list_audit(conn)
        assert [r["id"] for r in rows] == ids[::-1]
        assert rows[0]["detail"] == {"i": 4} and rows[0]["tenant"] is None and _aware(rows[0]["at"])
        assert [r["target"] for r in audit.list_audit(conn, tenant="acme")] == ["v3", "v1"]
        page = audit.list_audit(conn, limit=2, before_id=ids[3])
        assert [r["id"] for r in page] == [ids[2], ids[1]]


def test_one_upsert_may_name_a_key_twice_and_the_last_wins(engine):
    entry = {"list_type": "grey", "entity": "ip", "value": "1.2.3.4"}
    with engine.begin() as conn:
        n = lists.upsert_entries(conn, tenant="acme", entries=[entry | {"reason": "first"},
                                                               entry | {"reason": "second"}])
    assert n == 1
    with engine.connect() as conn:
        assert [e["reason"] for e in lists.all_entries(conn)] == ["second"]
