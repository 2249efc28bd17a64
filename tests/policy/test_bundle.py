"""Policy bundles: the shipped one validates; broken ones are refused with the file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tianwang.cli import main
from tianwang.errors import PolicyError
from tianwang.policy.bundle import compile_bundle, load_bundle, read_files

DEFAULT = Path(__file__).resolve().parents[2] / "policies" / "default"


@pytest.fixture(scope="module")
def default_bundle():
    return load_bundle(DEFAULT)


def test_the_default_policy_is_large_enough_and_covers_every_scene(default_bundle):
    s = default_bundle.summary()
    assert s["variables"] >= 150, s
    assert s["rules"] >= 60, s
    from tianwang.events import SCENES

    assert set(default_bundle.active) == set(SCENES), "every scene has an active strategy"
    for strategy in default_bundle.strategies:
        for rule in strategy.rules:
            assert rule.reason.strip(), f"{strategy.name}.{rule.code} has no reason text"
    for name in sorted(default_bundle.variables.names):
        assert default_bundle.variables[name].description, f"{name} has no description"


def test_the_default_policy_covers_every_fraud_type(default_bundle):
    from tianwang.decision.outcomes import FRAUD_TYPES

    tagged = {r.fraud_type for s in default_bundle.strategies for r in s.rules}
    missing = set(FRAUD_TYPES) - tagged
    assert not missing, f"no rule for {missing}"


def test_a_strategy_computes_only_what_it_needs(default_bundle):
    plan = default_bundle.plans[default_bundle.active["login"].name]
    assert 0 < len(plan.names) < len(default_bundle.variables)


def _broken(tmp_path: Path, rel: str, text: str) -> dict[str, str]:
    files = read_files(DEFAULT)
    files[rel] = text
    return files


@pytest.mark.parametrize(
    "rel, text, where, fragment",
    [
        ("variables/zz.yaml", "variables:\n  - name: x\n    kind: field\n   field: amount\n", "variables/zz.yaml", "YAML syntax error (line"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: expr, description: d, expr: \"().__class__\"}\n", "variables/zz.yaml", "attribute"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: expr, description: d, expr: \"__import__('os')\"}\n", "variables/zz.yaml", ""),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: window, scene: apply, by: device_id, window: 200d, agg: count, description: d}\n", "variables/zz.yaml", "90"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: window, scene: apply, by: device_id, window: 1h, agg: median, description: d}\n", "variables/zz.yaml", "agg"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: expr, expr: \"y + 1\", description: d}\n  - {name: y, kind: expr, expr: \"x + 1\", description: d}\n", "variables/zz.yaml", "depends on itself"),
        ("strategies/zz.yaml", "strategies:\n  - name: z\n    scene: apply\n    mode: shadow\n    rules:\n      - {code: Z, when: \"no_such_var > 1\", reason: r}\n", "strategies/zz.yaml", "no_such_var"),
        ("strategies/zz.yaml", "strategies:\n  - name: z\n    scene: apply\n    mode: shadow\n    rules:\n      - {code: Z, when: \"open('x')\", reason: r}\n", "strategies/zz.yaml", ""),
        ("strategies/zz.yaml", "strategies:\n  - name: z\n    scene: apply\n    mode: shadow\n    rules:\n      - {code: Z, when: \"1 > 0\", reason: \"{nope}\"}\n", "strategies/zz.yaml", "nope"),
        ("strategies/zz.yaml", "strategies:\n  - name: z\n    scene: apply\n    rules: []\n", "", "already has the active strategy"),
        ("strategies/zz.yaml", "strategies:\n  - name: z\n    scene: apply\n    mode: shadow\n    rules:\n      - {code: Z, when: \"1 > 0\", reason: r, outcome: explode}\n", "strategies/zz.yaml", "unknown outcome"),
        ("strategies/zz.yaml", "strategies:\n  - name: z\n    scene: apply\n    mode: shadow\n    colour: red\n", "strategies/zz.yaml", "unknown key"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: window, scene: apply, by: devise_id, window: 1h, agg: count, description: d}\n", "variables/zz.yaml", "did you mean 'device_id'"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: window, scene: apply, by: device_id, window: 1h, agg: sum, of: amout, description: d}\n", "variables/zz.yaml", "did you mean 'amount'"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: window, scene: apply, by: device_id, window: 1h, agg: count, where: \"amont > 5\", description: d}\n", "variables/zz.yaml", "amont"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: network, measure: ring_sise, description: d}\n", "variables/zz.yaml: variables[0].measure", "unknown measure 'ring_sise'; did you mean 'ring_size'"),
        ("variables/zz.yaml", "variables:\n  - {name: x, kind: network, description: d}\n", "variables/zz.yaml: variables[0].measure", "is required"),
        # reverse triggers: ring measures only, reject only, known scenes and keys, unique codes
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"amount > 5\", outcome: reject, reason: r}\n", "reverse (T)", "reads 'amount', a field variable"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"net_hops_to_blacklisted == 1\", outcome: reject, reason: r}\n", "reverse (T)", "a network variable"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"ring_size > 4\", outcome: review, reason: r}\n", "reverse.yaml: reverse[0].outcome", "must be reject"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"ring_size > 4\", outcome: reject, reason: r, scenes: [loan]}\n", "reverse.yaml: reverse[0].scenes", "a non-empty list of scenes"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"ring_size > 4\", outcome: reject, reason: r, scenes: []}\n", "reverse.yaml: reverse[0].scenes", "a non-empty list"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"ring_size > 4\", outcome: reject, reason: r, delay: 1h}\n", "reverse.yaml: reverse[0].delay", "unknown key"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"ring_sise > 4\", outcome: reject, reason: r}\n", "reverse.yaml: reverse[0].when", "ring_sise"),
        ("reverse.yaml", "reverse:\n  - {code: T, when: \"ring_size > 4\", outcome: reject, reason: r}\n  - {code: T, when: \"ring_size > 5\", outcome: reject, reason: r}\n", "reverse", "appears twice"),
        ("reverse.yaml", "reverse: {code: T}\n", "reverse.yaml", "must be a list"),
        ("reverse.yaml", "reverse:\n  - just a string\n", "reverse.yaml: reverse[0]", "must be a mapping"),
    ],
)
def test_a_broken_bundle_is_refused_naming_the_place(tmp_path, rel, text, where, fragment):
    with pytest.raises(PolicyError) as err:
        compile_bundle(_broken(tmp_path, rel, text))
    assert where in str(err.value)
    assert fragment in str(err.value)


def test_publish_rollback_and_diff_through_the_cli(tmp_path):
    runner = CliRunner()
    env = {"TIANWANG_DATA_DIR": str(tmp_path / "data"), "TIANWANG_PII_KEY": "k"}
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT, folder)

    r = runner.invoke(main, ["policy", "validate", str(folder)], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["policy", "diff", str(folder)], env=env)
    assert r.exit_code == 0 and "no live version yet" in r.output, r.output[-300:]
    r = runner.invoke(main, ["policy", "publish", str(folder), "--note", "first"], env=env)
    assert r.exit_code == 0 and "version 1" in r.output, r.output

    r = runner.invoke(main, ["policy", "publish", str(folder)], env=env)
    assert r.exit_code == 1 and "identical" in r.output

    strategy = folder / "strategies" / "apply.yaml"
    text = strategy.read_text()
    changed = text.replace("rules:", "rules:\n      - {code: ZZ_TEST_RULE, when: \"1 > 2\", reason: never fires}", 1)
    assert changed != text
    strategy.write_text(changed)
    r = runner.invoke(main, ["policy", "diff", str(folder)], env=env)
    assert r.exit_code == 0 and "ZZ_TEST_RULE" in r.output and "+ rule" in r.output, r.output
    r = runner.invoke(main, ["policy", "publish", str(folder)], env=env)
    assert "version 2" in r.output, r.output

    (folder / "strategies" / "apply.yaml").write_text(text + "\n  - name: [broken\n")
    r = runner.invoke(main, ["policy", "publish", str(folder)], env=env)
    assert r.exit_code == 1 and "YAML syntax error" in r.output
    r = runner.invoke(main, ["policy", "versions"], env=env)
    assert r.exit_code == 0
    assert [line.split()[0] for line in r.output.splitlines()[1:]] == ["2", "1"], "the refused bundle stored nothing"

    r = runner.invoke(main, ["policy", "rollback"], env=env)
    assert r.exit_code == 0 and "version 3 is version 1" in r.output, r.output


def test_the_default_reverse_triggers_read_ring_measures_only(default_bundle):
    codes = [t.code for t in default_bundle.triggers]
    assert codes == ["RING_CONFIRMED_FRAUD", "RING_MOSTLY_REJECTED", "RING_BLACKLISTED_MEMBERS"]
    assert set(default_bundle.trigger_plan.names) <= {n for n in default_bundle.variables.names if n.startswith("ring_")}
