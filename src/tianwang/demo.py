"""`make demo`: a server on a fresh data folder, a labelled day of traffic over HTTP, a table.

Until the full simulator lands, the traffic is `sim.sample`: honest customers and one of
each common attack. The table shows, per ground-truth label, what the platform decided.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from tianwang.config import Settings
from tianwang.sim.sample import sample_day

OUTCOMES = ("pass", "review", "verify", "delay", "reject")


def run_demo(*, port: int, data_dir: Path | None) -> int:
    import uvicorn

    from tianwang.api.app import create_app
    from tianwang.ingest.runtime import Runtime

    console = Console()
    folder = data_dir or Path(tempfile.mkdtemp(prefix="tianwang-demo-"))
    key = "tw_demo_key"
    rt = Runtime.open(Settings.from_env(data_dir=folder, api_key=key, db=None))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    console.print(f"[bold]tianwang demo[/]: server on {base} (API docs {base}/docs), data in {folder}")
    bundle, version = rt.bundle("demo")
    console.print(f"policy `{bundle.name}` version {version}: {bundle.summary()['variables']} variables, "
                  f"{bundle.summary()['rules']} rules")
    try:
        return _send_day(console, base, key)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        rt.close()


def _send_day(console: Console, base: str, key: str) -> int:
    events = sample_day()
    by_label: dict[str, Counter] = defaultdict(Counter)
    latencies, shown = [], []
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        for event in events:
            response = client.post("/v1/events", json=event)
            if response.status_code >= 300:
                console.print(f"[red]{response.status_code}[/] {response.text[:200]}")
                return 1
            d = response.json()
            by_label[event["label"]][d["outcome"]] += 1
            latencies.append(d["latency_ms"])
            if d["outcome"] != "pass" and event["label"] not in {label for label, _ in shown}:
                shown.append((event["label"], d))  # one example per kind of traffic
    elapsed = time.perf_counter() - started
    latencies.sort()
    console.print(f"{len(events)} events over HTTP in {elapsed:.1f}s; decision p50 "
                  f"{latencies[len(latencies) // 2]:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms\n")
    table = Table("ground truth", *OUTCOMES, "stopped or intervened", title="What the default policy did")
    for label in sorted(by_label, key=lambda l: (l != "normal", l)):
        c = by_label[label]
        total = sum(c.values())
        stopped = total - c["pass"]
        table.add_row(label, *(str(c[o]) for o in OUTCOMES), f"{stopped}/{total}")
    console.print(table)
    console.print("\n[bold]Some decisions, with their reasons[/]")
    for label, d in shown:
        reasons = "; ".join(f"{r['code']}: {r['text']}" for r in d["reasons"][:2]) or d.get("fallback") or ""
        console.print(f"[cyan]{label:15}[/] {d['scene']:9} → [bold]{d['outcome']}[/] ({d['score']}) {reasons}")
    return 0
