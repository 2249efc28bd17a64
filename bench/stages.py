"""Per-stage time of the walk, in process, each stage beside the whole walk of the same run.

    .venv/bin/python bench/stages.py [--events 14000] [--warm 4000]

Runs the stages of `ingest/walk.accept` one by one on simulated traffic (every scene, honest
and attacking, rings included) with durable commits, pinned to one core, and prints the mean
microseconds of each stage and its share of the walk: the figure to watch when a stage is
added (step 7, the outbox: the network's mark, holds, reverse triggers, alerts, tasks) or made
faster.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from decide import DEMO, traffic  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tianwang.app import boot  # noqa: E402
from tianwang.config import Settings  # noqa: E402
from tianwang.ingest import walk as W  # noqa: E402

# The walk's steps 1-9 (ingest/walk.py): step 7, the outbox, marks the outcome in the network too.
STAGES = ("validate", "dedupe", "enrich", "link", "variables", "decide", "outbox", "update", "store")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=14_000)
    ap.add_argument("--warm", type=int, default=4_000)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    events = traffic(args.events)
    rt = boot.open(Settings.from_env({}, data_dir=Path(tempfile.mkdtemp()), pii_key="b"), background=False)
    for e in events[: args.warm]:
        W.accept(rt, DEMO, e).wait()
    spent = dict.fromkeys(STAGES, 0.0)
    pending = []
    measured = events[args.warm:]
    started = time.perf_counter()
    for raw in measured:
        t = [time.perf_counter()]
        event = W.validate(raw)
        body_hash = W.fingerprint(raw)
        t.append(time.perf_counter())
        W.dedupe(rt, DEMO, event.event_id, body_hash)
        t.append(time.perf_counter())
        record = W.enrich(rt, DEMO, event)
        bundle, version = rt.policies.bundle(DEMO.id)
        t.append(time.perf_counter())
        measures = W.link(rt, DEMO, record)
        t.append(time.perf_counter())
        values, error = W.compute_variables(rt, DEMO, bundle, record, measures)
        t.append(time.perf_counter())
        decision = W.decide(rt, DEMO, bundle, version, record, values, error, t[3], measures)
        t.append(time.perf_counter())
        effects = W.outbox(rt, DEMO, bundle, record, measures, decision)
        t.append(time.perf_counter())
        W.update_state(rt, DEMO, bundle, record)
        t.append(time.perf_counter())
        pending.append(W.store(rt, DEMO, record, decision, body_hash, bundle, effects))
        t.append(time.perf_counter())
        for i, stage in enumerate(STAGES):
            spent[stage] += t[i + 1] - t[i]
        if len(pending) > 512:
            pending.pop(0).result()
    for future in pending:
        future.result()
    elapsed = time.perf_counter() - started
    n = len(measured)
    walk = sum(spent.values())
    table = Table("stage", "µs / event", "share of the walk", title=f"the walk, stage by stage ({n:,} events)")
    for stage in STAGES:
        table.add_row(stage, f"{spent[stage] / n * 1e6:.1f}", f"{spent[stage] / walk:.1%}")
    table.add_row("walk (baseline)", f"{walk / n * 1e6:.1f}", "100%", style="bold")
    Console().print(table)
    books = rt.live.hold_books.get(DEMO.id)
    print(f"{n / elapsed:,.0f} decisions/s with durable commits; held now: {len(books) if books else 0}")
    rt.close()


if __name__ == "__main__":
    main()
