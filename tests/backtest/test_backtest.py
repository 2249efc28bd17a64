"""`tianwang backtest` on a small simulated log: the default policy against a stricter copy."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tianwang.backtest import OUTCOMES, Tally, figures
from tianwang.cli import main
from tianwang.sim.run import simulate, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "policies" / "default"
CORRUPT_AT = 5  # a truncated JSON line inserted here
INVALID_AT = 9  # valid JSON, not a valid event


STRICT_RULE = """
      - code: APPLY_EVERYTHING
        when: "amount >= 0"
        outcome: reject
        score: 100
        reason: "Backtest test: every application rejected"
"""


def _stricter_copy(dest: Path) -> Path:
    shutil.copytree(DEFAULT, dest)
    path = dest / "strategies" / "apply.yaml"
    text = path.read_text()
    anchor = "    rules:\n"
    assert text.count(anchor) == 1
    path.write_text(text.replace(anchor, anchor + STRICT_RULE.lstrip("\n"), 1))
    return dest


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backtest")
    clean = tmp / "clean.jsonl"
    write_jsonl(simulate(customers=300, days=3, seed=1, start=None), clean, progress=None)
    lines = clean.read_bytes().splitlines(keepends=True)
    lines.insert(CORRUPT_AT - 1, b'{"event_id": "broken", "scene": "app\n')
    lines.insert(INVALID_AT - 1, b'{"event_id": "no-scene", "label": "normal"}\n')
    log = tmp / "events.jsonl"
    log.write_bytes(b"".join(lines))
    labels = Counter(orjson.loads(line)["label"] for line in clean.read_bytes().splitlines())
    strict = _stricter_copy(tmp / "strict")
    out = tmp / "figures.json"
    result = CliRunner().invoke(main, ["backtest", "--policy", str(DEFAULT), "--events", str(log),
                                       "--against", str(strict), "--json", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(out.read_text()), labels, result


def test_both_policies_have_every_section(run):
    figs, _, _ = run
    assert set(figs["policies"]) == {"policy", "against"}
    for f in figs["policies"].values():
        for section in ("attack_types", "targets", "false_positives", "review_per_day", "money", "outcomes"):
            assert section in f, section
        assert set(f["targets"]) == {"ring_apply_stopped", "telecom_scam_drawdown_intervened",
                                     "normal_apply_rejected", "normal_drawdown_interrupted"}
        assert set(f["false_positives"]) >= {"by_outcome", "by_scene", "by_group"}
        assert set(f["false_positives"]["by_group"]) == {"big_employer", "campus", "family", "mover", "multi_lender_shopper"}
        for t in f["attack_types"].values():
            assert {"events", "stopped_share", "intervened_share", "cases", "cases_caught"} <= set(t)
            assert t["cases"] >= 1
        assert f["review_per_day"] and all(v >= 0 for v in f["review_per_day"].values())
        assert f["money"]["protected_fen"] <= f["money"]["at_risk_fen"]


def test_the_stricter_copy_rejects_every_normal_application(run):
    figs, _, _ = run
    default = figs["policies"]["policy"]["targets"]["normal_apply_rejected"]
    strict = figs["policies"]["against"]["targets"]["normal_apply_rejected"]
    assert strict["share"] == 1.0 and strict["events"] > 0
    assert strict["share"] > default["share"]
    assert figs["policies"]["against"]["targets"]["ring_apply_stopped"]["share"] == 1.0
    assert figs["policies"]["against"]["money"]["protected_fen"] >= figs["policies"]["policy"]["money"]["protected_fen"]


def test_per_type_counts_equal_the_labels_in_the_log(run):
    figs, labels, _ = run
    for f in figs["policies"].values():
        assert f["labels"] == dict(labels)
        assert {k: v["events"] for k, v in f["attack_types"].items()} == {k: v for k, v in labels.items() if k != "normal"}
        assert f["false_positives"]["normal_events"] == labels["normal"]
        assert sum(f["outcomes"].values()) == sum(labels.values())


def test_bad_lines_are_reported_with_their_numbers_and_skipped(run):
    figs, _, result = run
    assert [b["line"] for b in figs["bad_lines"]] == [CORRUPT_AT, INVALID_AT]
    assert "not JSON" in figs["bad_lines"][0]["message"]
    assert f"line {CORRUPT_AT}" in result.output and f"line {INVALID_AT}" in result.output


def test_an_invalid_policy_stops_before_replaying(tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(DEFAULT, bad)
    (bad / "strategies" / "apply.yaml").write_text("strategies: [{name: x, scene: nowhere}]\n")
    log = tmp_path / "e.jsonl"
    log.write_text("")
    result = CliRunner().invoke(main, ["backtest", "--policy", str(bad), "--events", str(log)])
    assert result.exit_code == 1
    assert "error" in result.output


def test_figures_by_hand():
    """Stopped, intervened, cases, false positives and money, on four hand-made decisions."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    t = Tally()

    def add(raw, outcome, scene, interventions=(), at="2026-11-01T23:30:00Z"):
        t.add(raw, {"event_id": raw["event_id"], "outcome": outcome, "scene": scene, "occurred_at": at,
                    "interventions": list(interventions)}, tz)

    add({"event_id": "1", "label": "batch_attack", "attack_id": "r1", "amount": 500000}, "reject", "apply")
    add({"event_id": "2", "label": "batch_attack", "attack_id": "r1", "amount": 300000}, "pass", "drawdown")
    add({"event_id": "3", "label": "telecom_scam", "attack_id": "s1", "amount": 100000}, "pass", "drawdown", ["sms"])
    add({"event_id": "4", "label": "normal", "group": "mover"}, "review", "apply")
    add({"event_id": "5", "label": "normal"}, "delay", "drawdown", at="2026-11-01T15:00:00Z")
    f = figures(t)
    ba = f["attack_types"]["batch_attack"]
    assert (ba["events"], ba["stopped"], ba["intervened"], ba["cases"], ba["cases_caught"]) == (2, 1, 1, 1, 1)
    assert f["attack_types"]["telecom_scam"]["intervened"] == 1
    assert f["targets"]["ring_apply_stopped"]["share"] == 1.0
    assert f["targets"]["telecom_scam_drawdown_intervened"]["share"] == 1.0
    assert f["targets"]["normal_apply_rejected"]["share"] == 0.0
    assert f["targets"]["normal_drawdown_interrupted"]["share"] == 1.0
    assert f["false_positives"]["by_group"]["mover"]["outcomes"]["review"] == 1
    # 23:30 UTC is the next day in Shanghai; the day of event 5 had no review, and counts (issue 16, item 21)
    assert f["review_per_day"] == {"2026-11-01": 0, "2026-11-02": 1}
    assert f["review_per_day_mean"] == 0.5
    assert f["money"]["protected_fen"] == 500000 and f["money"]["at_risk_fen"] == 900000
    assert list(f["outcomes"]) == list(OUTCOMES)
