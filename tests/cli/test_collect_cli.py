"""`tianwang policy publish` shows what each collection rule matched among the stored captured
events, so a selector that matches nothing is seen when it is saved."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from click.testing import CliRunner

from tests.serving import open_runtime
from tianwang.cli import main
from tianwang.collect.service import collect
from tianwang.live.policies import DEFAULT_POLICY


def test_publish_counts_each_collection_rule_against_stored_events(tmp_path):
    now = int(time.time() * 1000)
    rt = open_runtime(tmp_path / "data", None)
    try:
        beacon = {"v": 1, "batch_id": str(uuid.uuid4()), "customer_id": "c-1", "events": [
            {"type": "input", "ts": now, "url": "https://lender.example/apply", "tag": "input", "name": "id_number",
             "selector": "html > body > form#apply > div > input", "length": 18},
            {"type": "submit", "ts": now + 60_000, "url": "https://lender.example/apply", "tag": "form",
             "selector": "html > body > form#apply", "fill_ms": 60_000},
        ]}
        assert collect(rt, rt.tenants.by_id("demo"), beacon, ip="10.0.0.9")["accepted"] == 2
    finally:
        rt.close()
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY, folder)
    with (folder / "collect.yaml").open("a") as f:
        f.write('\n  - name: typo_field\n    type: input\n    selector: "form#aply input"\n    description: a typo\n')
    env = {"TIANWANG_DATA_DIR": str(tmp_path / "data"), "TIANWANG_PII_KEY": "test-pii-key"}
    r = CliRunner().invoke(main, ["policy", "publish", str(folder), "--note", "a new rule"], env=env)
    assert r.exit_code == 0, r.output
    lines = {line.split()[0]: line.split()[1] for line in r.output.splitlines()[-5:] if line.startswith("  ")}
    assert lines["apply_id_number"] == "1" and lines["apply_submit"] == "1", r.output
    assert lines["typo_field"] == "none", r.output
