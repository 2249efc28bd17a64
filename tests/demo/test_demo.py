"""`make demo` in process: a small population streamed over HTTP ends by itself with every event answered."""

from __future__ import annotations

import re
import threading

from rich.console import Console

from tianwang.demo import run_demo
from tianwang.sim.run import simulate
from tests.serving import free_port

CUSTOMERS, SEED = 150, 3


def _run(tmp_path, **kw) -> tuple[int, str]:
    console = Console(record=True, width=140, force_terminal=False, color_system=None)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", run_demo(
        port=free_port(), data_dir=tmp_path / "data", customers=CUSTOMERS, seed=SEED, console=console, **kw)))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the demo did not end by itself"
    return result["rc"], console.export_text()


def test_demo_streams_a_day_answers_every_event_and_ends(tmp_path):
    events = list(simulate(CUSTOMERS, 1, SEED))
    labels = {e["label"] for e in events}
    rc, out = _run(tmp_path, speed=0)
    assert rc == 0, out
    answered = re.search(r"([\d,]+) of ([\d,]+) events answered over HTTP", out)
    assert answered, out
    n, of = (int(g.replace(",", "")) for g in answered.groups())
    assert n == of == len(events)
    assert re.search(r"Held decisions .*: \d+; still held \d+", out), out
    cube = re.search(r"Monitoring cube .*?: ([\d,]+) decisions; the busiest hour", out)
    assert cube and int(cube.group(1).replace(",", "")) == len(events), out
    table = out[out.index("What the default policy caught"):]
    rows = {line.split()[0] for line in table.splitlines() if line.strip()}
    assert "normal" in rows
    attacks = labels - {"normal"}
    assert len(attacks) >= 3 and attacks <= rows, (attacks, table)
    for label in attacks:  # each row accounts for all of that label's events
        count = sum(e["label"] == label for e in events)
        assert re.search(rf"^\s*{label}\s+{count}\s", table, re.M), (label, count)
    assert "Honest customers a naive rule would stop" in out
    assert "One decision per attack type" in out
    assert "events/s" in out  # the live view rendered (once, at its end, when not a terminal)


def test_demo_paces_in_accelerated_time(tmp_path):
    # a day at 86400 / 3 x is about 3 seconds of wall time; the tail after midnight goes at once
    import time

    began = time.monotonic()
    rc, out = _run(tmp_path, speed=86400 / 3)
    took = time.monotonic() - began
    assert rc == 0, out
    assert 2.0 < took < 30, took


def test_demo_command_has_its_options():
    from click.testing import CliRunner

    from tianwang.cli import main

    out = CliRunner().invoke(main, ["demo", "--help"]).output
    for option in ("--customers", "--seed", "--forever", "--port", "--speed"):
        assert option in out
