"""Ring measures as variables, through the HTTP API: the event that completes a ring sees it,
and an in-process replay of the same log stores the same values."""

from __future__ import annotations

from pathlib import Path

import orjson
from rich.console import Console

from tests.factories import apply_event
from tests.serving import open_runtime
from tianwang.network.persist import body
from tianwang.replay import replay_local

CONTACTS = [{"phone": "13700001111", "relation": "friend"}, {"phone": "13700002222", "relation": "colleague"}]


def ring_log() -> list[dict]:
    """Five applicants on one device naming the same two contacts, then an honest stranger."""
    events = [apply_event(f"ring-{i}", customer=f"ring-c{i}", minute=5 * i, device_id="farm-device-1",
                          contacts=CONTACTS) for i in range(1, 6)]
    events.append(apply_event("stranger-1", customer="stranger", minute=40,
                              contacts=[{"phone": "13911113333", "relation": "parent"}]))
    return events


def stored_values(api, event_id: str) -> dict:
    r = api.get(f"/v1/decisions/{event_id}")
    assert r.status_code == 200, r.text
    return r.json()["values"]


def test_the_event_that_completes_a_ring_sees_its_measures(api, runtime, tmp_path):
    events = ring_log()
    decisions = []
    for e in events:
        r = api.post("/v1/events", json=e)
        assert r.status_code == 201, r.text
        decisions.append(r.json())
    values = {e["event_id"]: stored_values(api, e["event_id"]) for e in events}

    assert [values[f"ring-{i}"]["ring_size"] for i in range(1, 4)] == [0, 0, 0]
    fourth = values["ring-4"]
    assert fourth["ring_size"] == 4 and fourth["ring_id"], fourth  # the 4th applicant completes the ring
    assert fourth["ring_max_customers_per_device"] == 4 and fourth["ring_applied_24h"] == 4
    assert fourth["net_contact_phone_degree"] == 4
    assert values["ring-5"]["ring_size"] == 5 and values["ring-5"]["ring_id"] == fourth["ring_id"]
    assert values["stranger-1"]["ring_size"] == 0 and values["stranger-1"]["ring_id"] is None
    codes = {r["code"] for r in decisions[3]["reasons"]}
    assert "APPLY_IN_RING" in codes, decisions[3]
    assert decisions[3]["outcome"] in ("review", "verify", "delay", "reject")
    ring_reason = next(r for r in decisions[3]["reasons"] if r["code"] == "APPLY_IN_RING")
    assert fourth["ring_id"] in ring_reason["text"] and "4 customers" in ring_reason["text"]

    # Replay of the same log, in process on a fresh data folder: the same values, event by event.
    log = tmp_path / "ring.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    again = open_runtime(tmp_path / "replayed", None)
    try:
        replay_local(again, log, tenant="demo", stop_on_error=True, console=Console(quiet=True))
        from tianwang.store import decisions as decision_repo

        with again.db.connect() as conn:
            for e in events:
                replayed = decision_repo.get_decision(conn, tenant="demo", event_id=e["event_id"])["values"]
                assert replayed == values[e["event_id"]], e["event_id"]
        assert body(again.live.network("demo")) == body(runtime.live.network("demo"))
    finally:
        again.close()


def test_a_restart_keeps_the_network_from_its_checkpoint_or_the_log(tmp_path: Path):
    from tianwang.tenants.service import Tenant
    from tianwang.ingest.walk import accept

    demo = Tenant("demo", "demo")
    rt = open_runtime(tmp_path / "data", None)
    for e in ring_log():
        accept(rt, demo, e).wait()
    live = body(rt.live.network("demo"))
    rt.close()
    assert (tmp_path / "data" / "network.ckpt").exists()

    rt = open_runtime(tmp_path / "data", None)  # from the checkpoint
    try:
        assert body(rt.live.network("demo")) == live
    finally:
        rt.close()

    (tmp_path / "data" / "network.ckpt").unlink()
    rt = open_runtime(tmp_path / "data", None)  # rebuilt from the stored records, outcomes marked
    try:
        assert body(rt.live.network("demo")) == live
        assert rt.live.network("demo").ring_of("ring-c1") is not None
    finally:
        rt.close()
