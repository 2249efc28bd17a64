"""Checkpoints and rebuilds: what comes back is the network that was, rings, ids and measures."""

from __future__ import annotations

import pytest

from tests.network.helpers import POISON, event, feed, network, record
from tianwang.network import Network, NetworkConfig
from tianwang.live.restore import relink
from tianwang.network.persist import body, load, save
from tianwang.state.base import StateError


@pytest.fixture(scope="module")
def records(sim_run) -> list[dict]:
    return [rec for rec, _ in sim_run]


def _live(records: list[dict]) -> Network:
    net = Network(NetworkConfig(), poison=POISON)
    for i, rec in enumerate(records):
        net.link(rec)
        if i % 7 == 0:
            net.mark(rec["customer_id"], "reject")
    net.mark_blacklisted(records[-1]["customer_id"])
    return net


def test_rebuilt_from_the_records_equals_live(records):
    live = _live(records)
    rows = [{"tenant": "t", "event_id": rec["event_id"], "payload": rec, "outcome": "reject" if i % 7 == 0 else "pass"}
            for i, rec in enumerate(records)]
    rebuilt = Network(NetworkConfig(), poison=POISON)
    relink(rows, lambda tenant: rebuilt)
    rebuilt.mark_blacklisted(records[-1]["customer_id"])
    assert live.stats()["rings"] >= 5
    assert rebuilt.ring_members() == live.ring_members()
    assert body(rebuilt) == body(live)
    for cid in list(live.graph.cust_ids)[::50]:
        assert rebuilt.measures(cid) == live.measures(cid)


def test_a_checkpoint_round_trip_gives_the_same_network_and_it_goes_on_alike(records, tmp_path):
    half = len(records) // 2
    live = _live(records[:half])
    save(live, tmp_path / "network.ckpt")
    loaded = load(tmp_path / "network.ckpt", poison=POISON)
    assert body(loaded) == body(live)
    for rec in records[half:]:  # both go on with the same events: every answer alike
        assert loaded.link(rec) == live.link(rec)
    assert body(loaded) == body(live) and loaded.ring_members() == live.ring_members()


def test_a_damaged_checkpoint_is_refused(tmp_path):
    net = network()
    feed(net, event("a", 0), event("b", 1, device_id="dev-a"))
    path = tmp_path / "network.ckpt"
    save(net, path)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(StateError, match="corrupt"):
        load(path)
    with pytest.raises(StateError, match="no checkpoint"):
        load(tmp_path / "missing.ckpt")


def test_a_window_state_checkpoint_is_not_taken_for_a_network(tmp_path):
    from tianwang.state import checkpoint

    checkpoint.write(tmp_path / "other.ckpt", {"format": "something else"})
    with pytest.raises(StateError, match="not a network checkpoint"):
        load(tmp_path / "other.ckpt")
    checkpoint.write(tmp_path / "old.ckpt", {"format": "tianwang.network", "version": 0})
    with pytest.raises(StateError, match="layout"):
        load(tmp_path / "old.ckpt")


def test_the_checkpoint_keeps_the_settings_and_the_marks(tmp_path):
    net = network(hub_limits={"device": 7}, window_ms=3_600_000)
    feed(net, event("a", 0))
    net.mark_blacklisted("a")
    save(net, tmp_path / "n.ckpt")
    loaded = load(tmp_path / "n.ckpt", poison=POISON)
    assert loaded.config == net.config and loaded.measures("a")["net_hops_to_blacklisted"] == 0
    assert loaded.link(record(event("b", 1, device_id="dev-a")))["net_hops_to_blacklisted"] == 1


DIGEST = """
import hashlib, pickle
from tests.network.helpers import POISON, sim_records
from tianwang.network import Network
from tianwang.network.persist import body
net = Network(poison=POISON)
for rec, _ in sim_records(1000, 7, 9, volume=20):
    net.link(rec)
print(net.stats()["rings"], hashlib.sha256(pickle.dumps(body(net))).hexdigest())
"""


def test_the_same_records_give_the_same_network_in_another_process():
    """No order of strings' hashes leaks in: a server restarted (another hash seed) rebuilds the same rings."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    outs = {subprocess.run([sys.executable, "-c", DIGEST], capture_output=True, text=True, check=True, cwd=root,
                           env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}).stdout
            for seed in ("1", "2")}
    assert len(outs) == 1 and int(next(iter(outs)).split()[0]) >= 2
