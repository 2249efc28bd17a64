"""Decisions as a lending system sees them: versions, shadows, fallbacks, hot reload."""

from __future__ import annotations

import shutil
from pathlib import Path

from tianwang.tenants.service import Tenant
from tianwang.ingest.walk import accept
from tianwang.policy import versions
from tests.factories import apply_event, drawdown_event
from tests.serving import open_runtime

DEMO = Tenant("demo", "demo")
DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default"

SHADOW = """
strategies:
  - name: apply_shadow_strict
    scene: apply
    mode: shadow
    rules:
      - code: SHADOW_ANY_APPLICATION
        when: "amount >= 0"
        outcome: reject
        score: 5
        reason: "Every application of {amount} fen (a shadow rule)"
"""


def _publish(rt, folder: Path, note: str) -> int:
    with rt.db.begin() as conn:
        version, _ = versions.publish_folder(conn, tenant="demo", folder=folder, actor="test", note=note)
    rt.policies.reload()
    return version


def _copy_default(tmp_path) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT, folder)
    return folder


def test_a_published_version_decides_the_next_event_and_is_recorded(tmp_path):
    rt = open_runtime(tmp_path / "d", None)
    try:
        before = accept(rt, DEMO, apply_event("v-1")).wait()
        folder = _copy_default(tmp_path)
        (folder / "strategies" / "zz_extra.yaml").write_text(
            SHADOW.replace("mode: shadow", "mode: shadow").replace("apply_shadow_strict", "noop_shadow")
        )
        version = _publish(rt, folder, "add a shadow")
        after = accept(rt, DEMO, apply_event("v-2", minute=1)).wait()
        assert after["policy_version"] == version == before["policy_version"] + 1
        assert after["strategy_version"].endswith(f"@{version}")
    finally:
        rt.close()


def test_shadow_strategies_are_recorded_but_not_enforced(tmp_path):
    rt = open_runtime(tmp_path / "d", None)
    try:
        folder = _copy_default(tmp_path)
        (folder / "strategies" / "zz_shadow.yaml").write_text(SHADOW)
        _publish(rt, folder, "shadow")
        d = accept(rt, DEMO, apply_event("sh-1")).wait()
        assert d["outcome"] != "reject", "a shadow strategy never decides"
        (shadow,) = d["shadow"]
        assert shadow == {"strategy": "apply_shadow_strict", "outcome": "reject", "score": 5,
                          "reasons": ["SHADOW_ANY_APPLICATION"]}
        assert d["values"]["amount"] == 2_000_000
    finally:
        rt.close()


def test_a_failing_stage_gives_the_fallback_outcome_and_says_why(tmp_path, monkeypatch):
    rt = open_runtime(tmp_path / "d", None)
    try:
        def broken(*a, **k):
            raise ConnectionError("list service unreachable")

        monkeypatch.setattr(rt.live.lists, "contains", broken)
        d = accept(rt, DEMO, apply_event("fb-1")).wait()
        assert d["outcome"] == "review"  # the default strategy's on_error
        assert "variables failed" in d["fallback"] and "unreachable" in d["fallback"]
        stored = rt.ledger.stored_decision("demo", "fb-1")[0]
        assert stored["fallback"] == d["fallback"]
    finally:
        rt.close()


def test_a_decision_over_its_time_budget_stands_as_decided_and_is_counted(tmp_path):
    """A busy machine makes a decision late, never different (issue 16, item 4): over a 1 ms
    budget, an honest application is still decided by its rules, not sent to review."""
    rt = open_runtime(tmp_path / "d", None)
    try:
        folder = _copy_default(tmp_path)
        path = folder / "strategies" / "apply.yaml"
        text = path.read_text()
        assert "timeout_ms:" in text
        import re

        path.write_text(re.sub(r"timeout_ms: \d+", "timeout_ms: 1", text, count=1))
        _publish(rt, folder, "tiny budget")
        import time

        strategy = rt.policies.bundle("demo")[0].active["apply"]
        plan = rt.policies.bundle("demo")[0].plans[strategy.name]
        original = plan.compute

        def slow_compute(*a, **k):
            time.sleep(0.005)
            return original(*a, **k)

        before = accept(rt, DEMO, apply_event("to-0", customer="c-fast")).wait()
        plan.compute = slow_compute
        d = accept(rt, DEMO, apply_event("to-1", customer="c-slow")).wait()
        assert d["latency_ms"] > strategy.timeout_ms
        assert d["fallback"] is None
        assert d["outcome"] == before["outcome"] == "pass", d
        over = rt.metrics.over_budget.labels("apply")._value.get()
        assert over >= 1
    finally:
        rt.close()


def test_delay_decisions_say_until_when(tmp_path):
    rt = open_runtime(tmp_path / "d", None)
    try:
        accept(rt, DEMO, apply_event("dl-0", customer="elder", birth_year=1950)).wait()
        accept(rt, DEMO, drawdown_event("dl-1", customer="elder", amount=300_000, limit=5_000_000, minute=90,
                                        payee_seed="own", birth_year=1950)).wait()
        d = accept(rt, DEMO, drawdown_event("dl-2", customer="elder", amount=4_900_000, limit=5_000_000,
                                            on_call=True, hour=23, birth_year=1950)).wait()
        assert d["outcome"] == "delay", d
        assert d["delay_until"] > d["occurred_at"]
        assert set(d["interventions"]) & {"ai_call", "manual_call", "app_popup", "sms"}
    finally:
        rt.close()


def test_a_failed_commit_leaves_no_trace_and_its_retry_counts_once(tmp_path, monkeypatch):
    import pytest
    from sqlalchemy.exc import OperationalError

    from tianwang.errors import StoreUnavailable

    def values_after(rt, fail_first: bool) -> dict:
        if fail_first:
            def down(items):
                raise OperationalError("COMMIT", {}, Exception("disk unplugged"))

            with monkeypatch.context() as m:
                m.setattr(rt.writer, "_commit", down)
                with pytest.raises(StoreUnavailable):
                    accept(rt, DEMO, apply_event("f-1", customer="c-f")).wait()
            assert not rt.ledger.inflight and rt.ledger.stored_decision("demo", "f-1") is None
        accept(rt, DEMO, apply_event("f-1", customer="c-f")).wait()  # the retry
        return accept(rt, DEMO, apply_event("f-2", customer="c-f", minute=1)).wait()["values"]

    clean, failed = open_runtime(tmp_path / "a", None), open_runtime(tmp_path / "b", None)
    try:
        assert values_after(failed, True) == values_after(clean, False)
        assert not failed.ledger.inflight
    finally:
        clean.close()
        failed.close()


def test_a_checkpoint_with_events_in_flight_completes(tmp_path):
    import threading

    rt = open_runtime(tmp_path / "d", None)
    try:
        with rt.writer._cond:  # events queued, not yet committed, when the checkpoint starts
            pending = [accept(rt, DEMO, apply_event(f"ck-{i}", minute=i)) for i in range(20)]
            done = threading.Event()
            threading.Thread(target=lambda: (rt.checkpoint(), done.set()), daemon=True).start()
        assert done.wait(timeout=30), "the checkpoint waited for commits that waited for it"
        assert all(p.wait(timeout=5)["outcome"] for p in pending)
        assert not rt.ledger.inflight
    finally:
        rt.close()


def test_an_event_the_writer_refuses_leaves_no_trace_in_the_windows(tmp_path, monkeypatch):
    import pytest

    rt = open_runtime(tmp_path / "d", None)
    try:
        accept(rt, DEMO, apply_event("w-0", customer="c-w", device_id="dev-w")).wait()
        accept(rt, DEMO, apply_event("w-1", customer="c-w2", device_id="dev-w", minute=2)).wait()

        real_submit = rt.writer.submit

        def refuse(*a, **k):
            raise ValueError("row refused")

        monkeypatch.setattr(rt.writer, "submit", refuse)
        with pytest.raises(ValueError):
            accept(rt, DEMO, apply_event("w-2", customer="c-w3", device_id="dev-w", minute=3))
        monkeypatch.setattr(rt.writer, "submit", real_submit)

        # w-3 sees w-0 and w-1 but not the refused w-2: the values of a twin that never saw w-2
        after = accept(rt, DEMO, apply_event("w-3", customer="c-w2", device_id="dev-w", minute=4)).wait()["values"]
        twin_dir = tmp_path / "twin"
        twin = open_runtime(twin_dir, None)
        try:
            for e in (apply_event("w-0", customer="c-w", device_id="dev-w"),
                      apply_event("w-1", customer="c-w2", device_id="dev-w", minute=2),
                      apply_event("w-3", customer="c-w2", device_id="dev-w", minute=4)):
                expected = accept(twin, DEMO, e).wait()["values"]
        finally:
            twin.close()
        assert after == expected
        assert rt.ledger.stored_decision("demo", "w-2") is None
    finally:
        rt.close()
