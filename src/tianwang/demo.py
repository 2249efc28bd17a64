"""`make demo`: a server on a fresh data folder, a simulated day over HTTP, a live view, a table.

`run_demo` opens a platform on a fresh data folder (the embedded default), serves it on a
local port in a thread, and streams `sim.run.simulate` through POST /v1/events/batch at
accelerated time: events keep their simulated `occurred_at`, and are sent when the wall
clock, sped up `speed` times, reaches them (speed 0: as fast as the server answers).
Batches of up to `BATCH` events go out over `WORKERS` concurrent connections. The ground
truth (`label`, `group`, `ring_id`) stays on this side: the server never sees it.

While it runs, a rich Live view shows events/s, outcomes so far, catches by attack type
and decision latency; on a terminal that is not interactive (CI logs) a status line is
printed every few seconds instead. At the end: per ground-truth label what was stopped,
intervened and what slipped through, the false positives per hard-normal group, and one
example decision per attack type with its reasons. Without `forever` the run ends after
one simulated day; with it, further days follow until Ctrl-C.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import orjson
from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tianwang.config import Settings
from tianwang.decision.outcomes import OUTCOMES, STOPPED

TRUTH = ("label", "group", "ring_id")  # ground truth: kept by the demo, never sent
BATCH = 50
WORKERS = 4
FLUSH_SECONDS = 0.1  # a partial batch waits at most this long (wall time) before it is sent
FOREVER_DAYS = 3650


@dataclass
class Tally:
    """What came back so far, by ground truth. Shared by the sender threads (under `lock`)."""

    sent: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    by_label: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_group: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    latencies: deque = field(default_factory=lambda: deque(maxlen=200_000))
    examples: dict[str, tuple[dict, dict]] = field(default_factory=dict)  # label → (event, decision)
    sim_time: str = ""
    started: float = field(default_factory=time.perf_counter)
    recent: deque = field(default_factory=lambda: deque(maxlen=64))  # (wall time, answered)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, event: dict, result: dict) -> None:
        label = event["label"]
        with self.lock:
            self.answered += 1
            if result.get("status", 500) >= 300 or "decision" not in result:
                self.by_label[label]["error"] += 1
                if len(self.errors) < 20:
                    self.errors.append(f"{event['event_id']}: {result.get('status')} "
                                       f"{result.get('message') or result.get('code') or result}")
                return
            d = result["decision"]
            outcome = d["outcome"]
            self.outcomes[outcome] += 1
            self.by_label[label][outcome] += 1
            if label == "normal" and event.get("group"):
                self.by_group[event["group"]][outcome] += 1
            self.latencies.append(d["latency_ms"])
            if label != "normal":
                have = self.examples.get(label)  # the first one caught (else the first one), by event id
                if have is None or (have[1]["outcome"] == "pass") > (outcome == "pass") or (
                        (have[1]["outcome"] == "pass") == (outcome == "pass") and event["event_id"] < have[0]["event_id"]):
                    self.examples[label] = (event, d)

    def rate(self) -> float:
        now = time.perf_counter()
        with self.lock:
            self.recent.append((now, self.answered))
            then, n0 = self.recent[0]
            for t, n in self.recent:  # the last few seconds
                if now - t <= 3.0:
                    then, n0 = t, n
                    break
            n = self.answered
        return (n - n0) / (now - then) if now - then > 0.2 else n / max(now - self.started, 1e-9)

    def percentiles(self) -> tuple[float, float]:
        with self.lock:
            lat = sorted(self.latencies)
        if not lat:
            return 0.0, 0.0
        return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def run_demo(*, port: int, data_dir: Path | None = None, customers: int = 3000, seed: int = 7,
             speed: float = 1440.0, forever: bool = False, console: Console | None = None) -> int:
    """Run the demo; 0 when every event was answered, 1 otherwise."""
    import uvicorn

    from tianwang.api.app import create_app
    from tianwang.app import boot

    console = console or Console()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request would drown the view
    folder = data_dir or Path(tempfile.mkdtemp(prefix="tianwang-demo-"))
    key = "tw_demo_key_of_the_demo_tenant"
    # The demo's calls and messages are answered by the simulated call centre.
    rt = boot.open(Settings.from_env(data_dir=folder, api_key=key, db=None, intervention_provider="simulated"))
    server = uvicorn.Server(uvicorn.Config(create_app(platform=rt), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            console.print(f"[red]the server did not start on port {port}[/] (is the port in use? try --port)")
            rt.close()
            return 1
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    console.print(f"[bold]tianwang demo[/]: server on {base} (API docs {base}/docs, the SDK on a demo form "
                  f"{base}/demo/apply), data in {folder}")
    bundle, version = rt.policies.bundle("demo")
    summary = bundle.summary()
    console.print(f"policy `{bundle.name}` version {version}: {summary['variables']} variables, "
                  f"{summary['rules']} rules")
    pace = f"{speed:g}x accelerated time" if speed > 0 else "as fast as the server answers"
    span = "one simulated day after another until Ctrl-C" if forever else "one simulated day"
    console.print(f"streaming {span} of {customers:,} customers (seed {seed}) at {pace}, "
                  f"batches of {BATCH} over {WORKERS} connections\n")
    try:
        tally, generated, interrupted = _stream(console, base, key, customers=customers, seed=seed,
                                                speed=speed, days=FOREVER_DAYS if forever else 1)
        _report(console, tally, generated, interrupted)
        _holds_report(console, base, key)
        _cube_report(console, base, key)
        ok = tally.answered == generated and not tally.errors
        return 0 if ok or (interrupted and not tally.errors) else 1
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        rt.close()


def _cube_report(console: Console, base: str, key: str) -> None:
    """The monitoring cube by the hour (read over the API): the busiest hour and the rules fired most."""
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
            days = client.get("/v1/monitor/cube", params={"step": "day"}).raise_for_status().json()
            week = datetime.fromisoformat(days["to"].replace("Z", "+00:00")) - timedelta(days=7)
            body = client.get("/v1/monitor/cube", params={"step": "hour", "to": days["to"],
                                                          "from": week.isoformat()}).raise_for_status().json()
    except httpx.HTTPError as exc:
        console.print(f"[red]could not read the monitoring cube[/]: {escape(str(exc))}")
        return
    busiest = max(body["buckets"], key=lambda b: b["decisions"])
    top = ", ".join(f"{code} {n:,}" for code, n in list(days["totals"]["reasons"].items())[:3]) or "none"
    outcomes = ", ".join(f"{o} {n:,}" for o, n in busiest["outcomes"].items())
    console.print(f"[bold]Monitoring cube[/] (GET /v1/monitor/cube): {days['totals']['decisions']:,} "
                  f"decisions; the busiest hour began {busiest['at']} (UTC) with {busiest['decisions']:,} "
                  f"({outcomes}); the rules fired most: {top}", soft_wrap=True)


def _holds_report(console: Console, base: str, key: str) -> None:
    """How the held decisions ended and what the lending system was told (read over the API)."""
    import httpx
    from collections import Counter

    def every(client: httpx.Client, path: str) -> list[dict]:
        items, after = [], 0
        while after is not None:
            page = client.get(path, params={"after": after, "limit": 1000}).raise_for_status().json()
            items += page["items"]
            after = page["next_after"]
        return items

    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
            holds, told = every(client, "/v1/holds"), every(client, "/v1/notifications")
    except httpx.HTTPError as exc:
        console.print(f"[red]could not read the holds[/]: {escape(str(exc))}")
        return
    ended = Counter((h["status"], (h["resolved_by"] or "").partition(":")[0]) for h in holds)
    topics = Counter(n["topic"] for n in told)
    console.print(f"\n[bold]Held decisions[/] (review / verify / delay, GET /v1/holds): {len(holds):,}; "
                  f"still held {ended['held', '']:,}, released when their delay ended {ended['released', 'clock']:,}, "
                  f"rejected by reverse notification {ended['rejected', 'reverse']:,}. "
                  f"Notifications for the lending system (GET /v1/notifications): "
                  + (", ".join(f"{t} {n:,}" for t, n in sorted(topics.items())) or "none"), soft_wrap=True)


def _stream(console: Console, base: str, key: str, *, customers: int, seed: int, speed: float,
            days: int) -> tuple[Tally, int, bool]:
    from tianwang.sim.attacks import daily_volume
    from tianwang.sim.run import simulate

    tally = Tally()
    batches: queue.Queue = queue.Queue(maxsize=WORKERS * 4)
    workers = [threading.Thread(target=_worker, args=(base, key, batches, tally), daemon=True) for _ in range(WORKERS)]
    for w in workers:
        w.start()
    generated = 0
    interrupted = False
    live = Live(_view(tally, 0.0), console=console, refresh_per_second=4, transient=False,
                get_renderable=lambda: _view(tally, tally.rate()))
    plain = not console.is_terminal
    last_line = time.perf_counter()
    try:
        with live:
            wall0 = sim0 = None
            chunk: list[dict] = []
            chunk_since = time.perf_counter()
            volume = daily_volume(customers) if days > 1 else 1.0  # a case of every attack each day
            for event in simulate(customers, days, seed, volume=volume):
                generated += 1
                at = datetime.fromisoformat(event["occurred_at"]).timestamp()
                if wall0 is None:
                    wall0, sim0 = time.perf_counter(), at
                    midnight = datetime.fromisoformat(event["occurred_at"][:10] + "T00:00:00+08:00").timestamp()
                    paced_until = midnight + days * 86400
                if speed > 0 and at < paced_until:  # the cases still running after the last day: at once
                    due = wall0 + (at - sim0) / speed
                    while (now := time.perf_counter()) < due:
                        if chunk and now - chunk_since >= FLUSH_SECONDS:
                            batches.put(chunk)
                            chunk = []
                        time.sleep(min(due - now, FLUSH_SECONDS))
                if not chunk:
                    chunk_since = time.perf_counter()
                chunk.append(event)
                tally.sim_time = event["occurred_at"][:16].replace("T", " ")
                if len(chunk) >= BATCH or time.perf_counter() - chunk_since >= FLUSH_SECONDS:
                    batches.put(chunk)
                    chunk = []
                if plain and time.perf_counter() - last_line >= 5.0:
                    last_line = time.perf_counter()
                    console.print(_status_line(tally), soft_wrap=True)
            if chunk:
                batches.put(chunk)
            for _ in workers:
                batches.put(None)
            for w in workers:
                while w.is_alive():
                    w.join(timeout=0.5)
                    if plain and time.perf_counter() - last_line >= 5.0:
                        last_line = time.perf_counter()
                        console.print(_status_line(tally), soft_wrap=True)
    except KeyboardInterrupt:
        interrupted = True
        console.print("\n[yellow]stopped (Ctrl-C)[/]; waiting for the answers already asked for")
        _drain(batches)
        for _ in workers:
            batches.put(None)
        for w in workers:
            w.join(timeout=30)
        generated = tally.sent  # events read from the simulator but never sent do not count
    return tally, generated, interrupted


def _drain(batches: queue.Queue) -> None:
    while True:
        try:
            batches.get_nowait()
        except queue.Empty:
            return


def _worker(base: str, key: str, batches: queue.Queue, tally: Tally) -> None:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while (chunk := batches.get()) is not None:
            with tally.lock:
                tally.sent += len(chunk)
            body = orjson.dumps({"events": [{k: v for k, v in e.items() if k not in TRUTH} for e in chunk]})
            try:
                response = client.post("/v1/events/batch", content=body)
                results = response.json()["results"] if response.status_code < 300 else None
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                response, results = None, None
                error = f"{type(exc).__name__}: {exc}"
            if results is None:
                error = error if response is None else f"{response.status_code} {response.text[:200]}"
                results = [{"status": 599, "message": error}] * len(chunk)
            for event, result in zip(chunk, results):
                tally.record(event, result)


def _status_line(tally: Tally) -> str:
    p50, p99 = tally.percentiles()
    with tally.lock:
        caught = sum(n for label, c in tally.by_label.items() if label != "normal"
                     for o, n in c.items() if o not in ("pass", "error"))
        attacks = sum(sum(c.values()) for label, c in tally.by_label.items() if label != "normal")
        outcomes = ", ".join(f"{o} {tally.outcomes[o]}" for o in OUTCOMES)
        answered = tally.answered
    return (f"[{tally.sim_time}] {answered:,} answered ({tally.rate():,.0f}/s): {outcomes}; "
            f"attack events intervened {caught}/{attacks}; latency p50 {p50:.2f} ms p99 {p99:.2f} ms")


def _view(tally: Tally, rate: float) -> Group:
    p50, p99 = tally.percentiles()
    with tally.lock:
        head = Text.assemble(
            ("simulated time ", "dim"), (tally.sim_time or "—", "bold"),
            ("   answered ", "dim"), (f"{tally.answered:,}", "bold"),
            ("   events/s ", "dim"), (f"{rate:,.0f}", "bold"),
            ("\ndecision latency p50 ", "dim"), (f"{p50:.2f} ms", "bold"),
            ("  p99 ", "dim"), (f"{p99:.2f} ms", "bold"),
        )
        total = sum(tally.outcomes.values())
        outcomes = Text.assemble(("outcomes ", "dim"),
                                 "  ".join(f"{o} {tally.outcomes[o]:,}" for o in OUTCOMES),
                                 ("   not passed ", "dim"),
                                 f"{(total - tally.outcomes['pass']) / max(total, 1):.1%}")
        table = Table("attack type", "events", "stopped", "intervened", title="catches by attack type",
                      title_justify="left")
        for label in sorted(tally.by_label):
            if label == "normal":
                continue
            c = tally.by_label[label]
            n = sum(c.values())
            stopped = sum(c[o] for o in STOPPED)
            intervened = n - c["pass"] - c["error"]
            table.add_row(label, str(n), f"{stopped} ({stopped / n:.0%})", f"{intervened} ({intervened / n:.0%})")
        if not table.row_count:
            table.add_row("(none yet)", "", "", "")
    return Group(head, outcomes, table)


def _report(console: Console, tally: Tally, generated: int, interrupted: bool) -> None:
    # CI logs (not a terminal) get 120 columns instead of rich's default 80, so the tables do not wrap
    width = None
    if not console.is_terminal and console.width < 120:
        saved, console.width = console.width, 120
        try:
            return _report(console, tally, generated, interrupted)
        finally:
            console.width = saved
    elapsed = time.perf_counter() - tally.started
    p50, p99 = tally.percentiles()
    console.print(f"\n{tally.answered:,} of {generated:,} events answered over HTTP in {elapsed:.1f}s "
                  f"({tally.answered / max(elapsed, 1e-9):,.0f}/s); decision latency p50 {p50:.2f} ms, "
                  f"p99 {p99:.2f} ms" + ("  (interrupted)" if interrupted else ""), width=width)
    for err in tally.errors[:5]:
        console.print(f"[red]error[/] {escape(str(err))}", soft_wrap=True)
    table = Table("ground truth", "events", *OUTCOMES, "stopped", "intervened", "slipped through",
                  title="What the default policy caught, and what slipped through, by ground truth",
                  box=box.SIMPLE_HEAD)
    for label in sorted(tally.by_label, key=lambda l: (l != "normal", l)):
        c = tally.by_label[label]
        n = sum(c.values())
        stopped = sum(c[o] for o in STOPPED)
        intervened = n - c["pass"] - c["error"]
        slipped = "" if label == "normal" else f"{c['pass']} ({c['pass'] / n:.0%})"
        table.add_row(label, str(n), *(str(c[o]) for o in OUTCOMES), f"{stopped / n:.1%}",
                      f"{intervened / n:.1%}", slipped, style="green" if label == "normal" else None)
        if label == "normal":
            table.add_section()
    console.print(table, width=width)
    groups = Table("hard-normal group", "events", "rejected", "stopped", "false positives (intervened)",
                   title="Honest customers a naive rule would stop", box=box.SIMPLE_HEAD)
    for group in sorted(tally.by_group):
        c = tally.by_group[group]
        n = sum(c.values())
        stopped = sum(c[o] for o in STOPPED)
        fp = n - c["pass"]
        groups.add_row(group, str(n), str(c["reject"]), str(stopped), f"{fp} ({fp / n:.1%})")
    if groups.row_count:
        console.print(groups, width=width)
    if tally.examples:
        console.print("\n[bold]One decision per attack type, with its reasons[/]")
    for label in sorted(tally.examples):
        event, d = tally.examples[label]
        reasons = "; ".join(f"{r['code']}: {r['text']}" for r in d.get("reasons", [])[:2]) or d.get("fallback") or ""
        mark = "[red]slipped through[/] " if d["outcome"] == "pass" else ""
        console.print(f"[cyan]{label:21}[/] {d['scene']:9} → [bold]{d['outcome']}[/] ({d['score']}) "
                      f"{mark}{reasons}", soft_wrap=True)
