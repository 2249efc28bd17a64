"""Blacklisted customers mark the network: a ring member put on the blacklist (API, CLI or
at start) shows in ring_blacklisted_share and net_hops_to_blacklisted of the others."""

from __future__ import annotations

import shutil
from pathlib import Path

from tianwang.policy import versions
from tests.factories import apply_event
from tests.serving import DEMO_KEY, Client, Server, open_runtime

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default"
CONTACTS = [{"phone": "13700001111", "relation": "friend"}, {"phone": "13700002222", "relation": "colleague"}]
# A shadow strategy that reads the two measures, so every apply decision stores their values.
OBSERVE = """
strategies:
  - name: apply_observe_blacklist
    scene: apply
    mode: shadow
    rules:
      - code: NEAR_BLACKLISTED
        when: "coalesce(ring_blacklisted_share, 0) > 0 or coalesce(net_hops_to_blacklisted, 9) <= 2"
        outcome: review
        score: 1
        reason: "Near a blacklisted customer"
"""


def _ring_event(i: int, minute: int, event_id: str | None = None) -> dict:
    return apply_event(event_id or f"ring-{i}", customer=f"ring-c{i}", minute=minute, device_id="farm-device-1",
                       contacts=CONTACTS)


def _observe(rt, tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT, folder)
    (folder / "strategies" / "observe_blacklist.yaml").write_text(OBSERVE)
    with rt.db.begin() as conn:
        versions.publish_folder(conn, tenant="demo", folder=folder, actor="test", note="observe the blacklist")
    rt.policies.reload()


def _values(api, event_id: str) -> dict:
    r = api.get(f"/v1/decisions/{event_id}")
    assert r.status_code == 200, r.text
    return r.json()["values"]


def test_a_blacklisted_ring_member_marks_the_ring_until_removed(tmp_path):
    rt = open_runtime(tmp_path / "data", None)
    _observe(rt, tmp_path)
    try:
        with Server(rt) as server, Client(server.url, DEMO_KEY) as api:
            for i in range(1, 6):
                assert api.post("/v1/events", json=_ring_event(i, 5 * i)).status_code == 201
            before = _values(api, "ring-5")
            assert before["ring_size"] == 5 and before["ring_blacklisted_share"] == 0
            assert before["net_hops_to_blacklisted"] is None

            r = api.post("/v1/lists", json={"entries": [
                {"list_type": "black", "entity": "customer", "value": "ring-c1", "reason": "confirmed fraud case 9"}]})
            assert r.status_code == 201, r.text
            assert api.post("/v1/events", json=_ring_event(2, 40, "ring-2-again")).status_code == 201
            after = _values(api, "ring-2-again")
            assert after["ring_blacklisted_share"] > 0, after
            assert after["ring_blacklisted_share"] == 1 / after["ring_size"]
            assert after["net_hops_to_blacklisted"] == 1, after  # ring-c1 shares the device with ring-c2

            assert api.delete("/v1/lists/black/customer/ring-c1").status_code == 200
            assert api.post("/v1/events", json=_ring_event(3, 45, "ring-3-again")).status_code == 201
            cleared = _values(api, "ring-3-again")
            assert cleared["ring_blacklisted_share"] == 0 and cleared["net_hops_to_blacklisted"] is None
    finally:
        rt.close()


def test_existing_entries_mark_the_network_at_start_and_expire(tmp_path):
    data = tmp_path / "data"
    rt = open_runtime(data, None)
    try:
        with Server(rt) as server, Client(server.url, DEMO_KEY) as api:
            for i in range(1, 6):
                assert api.post("/v1/events", json=_ring_event(i, 5 * i)).status_code == 201
            r = api.post("/v1/lists", json={"entries": [
                {"list_type": "black", "entity": "customer", "value": "ring-c1", "reason": "case 9"},
                # expires between ring-5 (10:25 +08:00) and the event below (11:00 +08:00)
                {"list_type": "black", "entity": "customer", "value": "ring-c5", "reason": "case 10",
                 "expires_at": "2026-11-25T10:30:00+08:00"}]})
            assert r.status_code == 201, r.text
    finally:
        rt.close()
    (data / "network.ckpt").unlink()  # the network is rebuilt from the log, and marked from the lists

    rt = open_runtime(data, None)
    try:
        net = rt.live.network("demo")
        assert net.measures("ring-c2")["net_hops_to_blacklisted"] == 1
        assert net.measures("ring-c2")["ring_blacklisted_share"] == 2 / 5  # ring-c5 not expired at 10:25
        from tianwang.tenants.service import Tenant
        from tianwang.ingest.walk import accept

        accept(rt, Tenant("demo", "demo"), _ring_event(4, 60, "ring-4-later")).wait()
        rt.checkpoint()  # where expiries are noticed
        assert net.measures("ring-c2")["ring_blacklisted_share"] == 1 / 5
    finally:
        rt.close()
