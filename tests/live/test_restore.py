"""The live state comes back from the records: a restart, a lost checkpoint, a failed commit.

Whatever the path — the checkpoint and the events after it, the records alone, or one tenant
rebuilt after a commit failed — the windows, networks, held events and flagged rings are the
ones a platform that never stopped holds, so the next decision is the same.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from tests.serving import open_runtime
from tianwang.ingest.walk import accept
from tianwang.live.checkpoint import network_path, state_path
from tianwang.live.ops import Ops
from tianwang.live.restore import rebuild_tenant
from tianwang.network.persist import body
from tianwang.sim.sample import sample_day
from tianwang.tenants.service import Tenant

DEMO = Tenant("demo", "demo")


@pytest.fixture(scope="module")
def traffic() -> list[dict]:
    start = datetime(2026, 9, 1, tzinfo=timezone(timedelta(hours=8)))
    return [e for d in range(2) for e in sample_day(seed=40 + d, customers=60, start=start + timedelta(days=d),
                                                    prefix=f"r{d}")]


def decide(rt, events) -> list[dict]:
    pending = [accept(rt, DEMO, e) for e in events]
    return [p.wait() for p in pending]


def snapshot(rt) -> dict:
    """What the live state holds of the demo tenant, comparably."""
    book = rt.live.holds("demo")
    return {
        "network": body(rt.live.network("demo")),
        "held": sorted((h.event_id, h.outcome, h.until) for h in book.by_event.values()),
        "alerted": sorted(book.alerted),
    }


@pytest.fixture(scope="module")
def never_stopped(traffic, tmp_path_factory):
    """The decisions and state of one platform that saw every event without stopping."""
    rt = open_runtime(tmp_path_factory.mktemp("straight"), None)
    try:
        answers = decide(rt, traffic)
        state = snapshot(rt)
        assert state["held"] and state["alerted"] and rt.live.network("demo").stats()["rings"]  # something to restore
        return answers, state
    finally:
        rt.close()


def test_a_restart_from_its_checkpoint_gives_the_state_that_never_stopped(traffic, never_stopped, tmp_path):
    half = len(traffic) // 2
    rt = open_runtime(tmp_path, None)
    decide(rt, traffic[:half])
    rt.close()  # writes the checkpoints
    assert state_path(tmp_path).exists() and network_path(tmp_path).exists()
    rt = open_runtime(tmp_path, None)
    try:
        tail = decide(rt, traffic[half:])
        assert snapshot(rt) == never_stopped[1]
    finally:
        rt.close()
    assert [(a["outcome"], a["values"]) for a in tail] == [(a["outcome"], a["values"]) for a in never_stopped[0][half:]]


def test_events_stored_after_an_older_checkpoint_are_replayed_on_top_of_it(traffic, never_stopped, tmp_path):
    third = len(traffic) // 3
    rt = open_runtime(tmp_path / "data", None)
    decide(rt, traffic[:third])
    rt.checkpoint()
    for path in (state_path(rt.settings.data_dir), network_path(rt.settings.data_dir)):
        shutil.copy(path, tmp_path / path.name)
    decide(rt, traffic[third:2 * third])
    rt.close()
    for name in ("state.ckpt", "network.ckpt"):  # as if the process died before its last checkpoint
        shutil.copy(tmp_path / name, tmp_path / "data" / name)
    rt = open_runtime(tmp_path / "data", None)
    try:
        tail = decide(rt, traffic[2 * third:])
        assert snapshot(rt) == never_stopped[1]
    finally:
        rt.close()
    assert [a["values"] for a in tail] == [a["values"] for a in never_stopped[0][2 * third:]]


@pytest.mark.parametrize("damage", ["deleted", "garbage"])
def test_without_a_usable_checkpoint_the_records_alone_give_the_same_state(traffic, never_stopped, tmp_path, damage):
    half = len(traffic) // 2
    rt = open_runtime(tmp_path, None)
    decide(rt, traffic[:half])
    rt.close()
    for path in (state_path(tmp_path), network_path(tmp_path)):
        if damage == "deleted":
            path.unlink()
        else:
            path.write_bytes(b"not a checkpoint")
    rt = open_runtime(tmp_path, None)
    try:
        decide(rt, traffic[half:])
        assert snapshot(rt) == never_stopped[1]
    finally:
        rt.close()


def test_a_tenant_rebuilt_after_a_failed_commit_holds_what_its_records_say(traffic, never_stopped, tmp_path):
    rt = open_runtime(tmp_path, None)
    try:
        decide(rt, traffic)
        before = snapshot(rt)
        linked = rebuild_tenant(rt.live, "demo")
        assert snapshot(rt) == before == never_stopped[1]
        assert len(linked) == len({e["event_id"] for e in traffic})
    finally:
        rt.close()


def test_a_change_log_operation_has_one_owner():
    ops = Ops()
    ops.register("mark", lambda tenant, *args: None)
    with pytest.raises(ValueError, match="'mark' is registered twice"):
        ops.register("mark", lambda tenant, *args: None)
    with pytest.raises(KeyError, match="no change-log operation 'nope'"):
        ops["nope"]


def test_every_change_a_replica_tells_has_an_owner_here(runtime):
    """The names a replica writes into the change log are all registered (live/changes.py applies them)."""
    told = {"mark", "fraud", "hold.add", "hold.end", "alert", "list.put", "list.remove", "device", "policy", "rebuild"}
    assert told <= set(runtime.live.ops.names())
