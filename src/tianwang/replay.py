"""Replay a JSONL event log through the pipeline, in process or over HTTP.

Bad lines (truncated JSON, invalid events) are reported with their line numbers and
skipped, or stop the run with --stop-on-error; they are never dropped silently.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tianwang.errors import TianwangError
from tianwang.events import EventError

WAIT_EVERY = 256  # in-process: how many decisions may await their commit at once


@dataclass
class Summary:
    events: int = 0
    duplicates: int = 0
    outcomes: Counter = field(default_factory=Counter)
    by_scene: Counter = field(default_factory=Counter)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, decision: dict) -> None:
        if decision.get("duplicate"):
            self.duplicates += 1
            return
        self.events += 1
        self.outcomes[decision["outcome"]] += 1
        self.by_scene[(decision["scene"], decision["outcome"])] += 1
        self.latencies_ms.append(decision["latency_ms"])

    def print(self, console: Console) -> None:
        lat = sorted(self.latencies_ms)
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0  # noqa: E731
        rate = self.events / self.seconds if self.seconds else 0.0
        console.print(
            f"{self.events} events decided in {self.seconds:.1f}s ({rate:,.0f}/s); "
            f"decision latency p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms; "
            f"{self.duplicates} repeats answered from the record; {len(self.bad_lines)} bad lines"
        )
        outcomes = ["pass", "review", "verify", "delay", "reject"]
        table = Table("scene", *outcomes, "total", title="decisions")
        for scene in sorted({s for s, _ in self.by_scene}):
            row = [self.by_scene[(scene, o)] for o in outcomes]
            table.add_row(scene, *map(str, row), str(sum(row)))
        table.add_row("all", *(str(self.outcomes[o]) for o in outcomes), str(self.events), style="bold")
        console.print(table)
        for n, message in self.bad_lines[:20]:
            console.print(f"[red]line {n}[/]: {escape(message)}")
        if len(self.bad_lines) > 20:
            console.print(f"… and {len(self.bad_lines) - 20} more bad lines")


class StopReplay(Exception):
    pass


def read_log(path: Path, summary: Summary, *, stop_on_error: bool) -> Iterator[tuple[int, object]]:
    """(line number, decoded JSON) for every line; bad lines are recorded (or stop the run)."""
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield n, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                _bad(summary, n, f"not JSON ({exc})", stop_on_error)


def _bad(summary: Summary, n: int, message: str, stop: bool) -> None:
    summary.bad_lines.append((n, message))
    if stop:
        raise StopReplay(f"line {n}: {message}")


def count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def progress_bars(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def replay_local(rt, path: Path, *, tenant: str, stop_on_error: bool, console: Console,
                 observe: Callable[[dict, dict], None] | None = None, label: str = "replaying",
                 total: int | None = None, report: Callable[[int, int, float], None] | None = None) -> Summary:
    """Decide every event of the log in this process, as the server would.

    `observe(raw_event, decision)` sees each decided event (the backtest tallies ground truth
    with it); `total` saves counting the lines again when the caller knows them. With
    `report(line, events decided, seconds)`, called every WAIT_EVERY events, no progress bar
    is drawn (a backtest's worker process sends it to the bars of its parent).
    """
    if report is not None:
        return _replay_local(rt, path, tenant, stop_on_error, console, observe, report)
    with progress_bars(console) as progress:
        task = progress.add_task(label, total=total if total is not None else count_lines(path), rate="")

        def bar(n: int, events: int, seconds: float) -> None:
            progress.update(task, completed=n, rate=f"{events / seconds:,.0f} ev/s" if seconds else "")

        summary = _replay_local(rt, path, tenant, stop_on_error, console, observe, bar)
        if not (stop_on_error and summary.bad_lines):  # a stopped run's bar stays where it stopped
            progress.update(task, completed=progress.tasks[0].total)
    return summary


def _replay_local(rt, path: Path, tenant: str, stop_on_error: bool, console: Console, observe, report) -> Summary:
    from tianwang.tenants.service import Tenant
    from tianwang.ingest.walk import accept

    who = Tenant(tenant, tenant)
    summary, pending = Summary(), []
    started = time.perf_counter()
    try:
        for n, raw in read_log(path, summary, stop_on_error=stop_on_error):
            try:
                pending.append((n, raw, accept(rt, who, raw)))
            except (EventError, TianwangError) as exc:
                _bad(summary, n, str(exc), stop_on_error)
            if len(pending) >= WAIT_EVERY:
                _settle(pending, summary, stop_on_error, observe)
                report(n, summary.events, time.perf_counter() - started)
        _settle(pending, summary, stop_on_error, observe)
    except StopReplay as exc:
        _settle(pending, summary, False, observe)  # decided before the run stopped: they count
        console.print(f"[bold red]stopped[/]: {escape(str(exc))}")
    summary.seconds = time.perf_counter() - started
    return summary


def _settle(pending: list, summary: Summary, stop_on_error: bool, observe) -> None:
    settling = pending[:]
    pending.clear()  # before any StopReplay: what was settled is not settled again
    for n, raw, accepted in settling:
        try:
            decision = accepted.wait()
        except TianwangError as exc:
            _bad(summary, n, str(exc), stop_on_error)
            continue
        summary.add(decision)
        if observe is not None:
            observe(raw, decision)


def replay_http(path: Path, *, url: str, api_key: str, stop_on_error: bool, console: Console, batch: int = 200) -> Summary:
    """Send the log to a running server in batches; per-item errors are reported by line."""
    import httpx

    summary = Summary()
    started = time.perf_counter()
    chunk: list[tuple[int, object]] = []
    with httpx.Client(base_url=url.rstrip("/"), headers={"X-API-Key": api_key}, timeout=60) as client:
        try:
            with progress_bars(console) as progress:
                task = progress.add_task("sending", total=count_lines(path), rate="")
                for n, raw in read_log(path, summary, stop_on_error=stop_on_error):
                    chunk.append((n, raw))
                    if len(chunk) >= batch:
                        _send(client, chunk, summary, stop_on_error)
                        elapsed = time.perf_counter() - started
                        progress.update(task, completed=n, rate=f"{summary.events / elapsed:,.0f} ev/s")
                _send(client, chunk, summary, stop_on_error)
                progress.update(task, completed=progress.tasks[0].total)
        except StopReplay as exc:
            console.print(f"[bold red]stopped[/]: {escape(str(exc))}")
    summary.seconds = time.perf_counter() - started
    return summary


def _send(client, chunk: list, summary: Summary, stop_on_error: bool) -> None:
    if not chunk:
        return
    response = client.post("/v1/events/batch", content=orjson.dumps({"events": [raw for _, raw in chunk]}),
                           headers={"content-type": "application/json"})
    if response.status_code != 200:
        raise StopReplay(f"server answered {response.status_code}: {response.text[:300]}")
    for (n, _), result in zip(chunk, response.json()["results"]):
        if result["status"] < 300:
            summary.add(result["decision"])
        else:
            _bad(summary, n, result["error"]["message"], stop_on_error)
    chunk.clear()
