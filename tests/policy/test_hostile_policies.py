"""Policies a careless or hostile analyst could publish (issue 16, items 7 and 8): refused when
they are published, or bounded when they run — never a 500, a stall or a megabyte per decision."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.factories import apply_event
from tests.serving import open_runtime
from tianwang.cli import main
from tianwang.ingest.walk import accept
from tianwang.tenants.service import Tenant

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default"
DEMO = Tenant("demo", "demo")

RULE = """
strategies:
  - name: zz_shadow
    scene: apply
    mode: shadow
    rules:
      - code: ZZ_RULE
        when: "{when}"
        outcome: review
        reason: "{reason}"
"""


def bundle_with(tmp_path: Path, *, reason: str = "a rule", when: str = "amount > 0", variables: str = "") -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT, folder)
    (folder / "strategies" / "zz.yaml").write_text(RULE.replace("{when}", when).replace("{reason}", reason))
    if variables:
        (folder / "variables" / "zz.yaml").write_text(variables)
    return folder


@pytest.mark.parametrize("reason,says", [
    ("bad {device_id:d}", "{device_id}"),
    ("wide {amount:>1000000}", "{amount}"),
    ("as repr {amount!r}", "{amount}"),
    ("positional {}", "a placeholder names a variable"),
    ("x" * 501, "at most 500 characters"),
])
def test_a_reason_template_that_could_fail_or_grow_is_refused_when_validated(tmp_path, reason, says):
    folder = bundle_with(tmp_path, reason=reason)
    r = CliRunner().invoke(main, ["policy", "validate", str(folder)], env={"TIANWANG_DATA_DIR": str(tmp_path / "d")})
    assert r.exit_code == 1, r.output
    assert "zz.yaml" in r.output and says in r.output, r.output


def test_a_plain_reason_with_a_long_value_is_bounded(tmp_path):
    folder = bundle_with(tmp_path, reason="device {device_id}", when="amount > 0")
    rt = open_runtime(tmp_path / "data", None, policy_dir=folder)
    try:
        long_device = "d" * 500
        d = accept(rt, DEMO, apply_event("long-1", device_id=long_device)).wait()
        shadow = [s for s in d["shadow"] if s["strategy"] == "zz_shadow"]
        assert shadow and shadow[0]["reasons"] == ["ZZ_RULE"]
    finally:
        rt.close()


DOUBLING = "variables:\n  - name: zz_v0\n    kind: expr\n    expr: \"'" + "a" * 900 + "'\"\n    description: a long text\n" + "".join(
    f"  - name: zz_v{i}\n    kind: expr\n    expr: \"zz_v{i - 1} + zz_v{i - 1}\"\n    description: twice the one before\n"
    for i in range(1, 15))


def test_a_chain_of_joins_that_doubles_a_text_is_bounded_and_decides_at_once(tmp_path):
    folder = bundle_with(tmp_path, when="len(zz_v14) > 0", variables=DOUBLING)
    rt = open_runtime(tmp_path / "data", None, policy_dir=folder)
    try:
        d = accept(rt, DEMO, apply_event("dbl-1")).wait()  # unbounded: a 14.7 MB text, stored with the decision
        assert d["values"].get("zz_v14") is None  # over the bound: null, as an over-large product is
        assert d["values"].get("zz_v0") is not None
        assert sum(len(v) for v in d["values"].values() if isinstance(v, str)) < 5_000
    finally:
        rt.close()


def test_a_rule_that_waits_for_a_call_must_name_one(tmp_path):
    """`release: result` waits for a call's answer (issue 16, item 2): without a call it could wait for nothing."""
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT, folder)
    (folder / "strategies" / "zz.yaml").write_text(
        "strategies:\n  - name: zz_shadow\n    scene: drawdown\n    mode: shadow\n    rules:\n"
        "      - code: ZZ_WAIT\n        when: \"amount > 0\"\n        outcome: delay\n        delay: 2h\n"
        "        interventions: [sms]\n        release: result\n        reason: \"waits\"\n")
    r = CliRunner().invoke(main, ["policy", "validate", str(folder)], env={"TIANWANG_DATA_DIR": str(tmp_path / "d")})
    assert r.exit_code == 1 and "release" in r.output and "manual_call" in r.output, r.output
