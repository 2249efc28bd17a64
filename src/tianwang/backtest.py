"""Backtest: point-in-time evaluation of one or two policy bundles on a labelled event log.

Each policy is replayed in a process of its own, on a scratch platform with a fresh temporary
data folder and the bundle published as version 1: the log goes through the real walk
(`walk.accept`, as `tianwang replay` does). Every event therefore sees exactly the events
before it and nothing after: point-in-time by construction, with the same variables, lists
and strategies the server would use. The ground truth the simulator writes (`label`, `group`,
`ring_id`, `attack_id`) ends up under the record's `attributes`, which no policy variable
reads; it is only read here, from the raw line, to score the decision.

Scratch (`app.boot.open(..., scratch=True)`) is the same walk with two things off that a
backtest never reads: records (the writer stores nothing, and keeps a body hash per event
to still tell repeats) and the state checkpoint on close. A decision depends on its inputs
alone, never on how long it took, so every decision is the stored walk's:
tests/backtest/test_scratch.py compares them one by one.

`run_policy` replays and tallies one policy in this process; `run_policies` runs each in a
worker process (`jobs` at a time: `--against` runs both at once on two cores) that sends its
progress and then its tally back; `figures` turns a tally into the JSON figures (per attack
type, the default policy's targets, false positives on normal customers, review load per day, money
protected); `backtest` runs one or two policies; `backtest_report.print_report` prints them
side by side.

Speed: the walk's, 5,300–5,700 events/s per policy (bench/backtest.py), so a simulated month
of 100,000 customers (1.25 M events) takes about 4 minutes and 2 GB for one policy, and both
policies of `--against` at once about 5 minutes and 2 GB each on two cores. The time left is
the walk itself: validation, PII hashing, variables, rules. Going further means
vectorising: the window variables over the whole log at once (DuckDB or Polars, as-of joins
over `occurred_at`) and the compiled rules column-wise — a second engine, to be checked
against this one, which stays the reference because it is correct by construction.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from tianwang.decision.outcomes import OUTCOMES, STOPPED
from tianwang.holds.book import HELD_OUTCOMES as HELD
from tianwang.errors import TianwangError
from tianwang.replay import count_lines, progress_bars, replay_local

NORMAL = "normal"
UNLABELLED = "unlabelled"  # a line without `label` (real history): decided, not scored
RING_TYPES = ("batch_attack", "intermediary")  # the organised attacks; their events carry ring_id
MONEY_SCENES = ("apply", "drawdown", "payment")
TARGETS = {  # what the default policy is held to
    "ring_apply_stopped": (">=", 0.80),
    "telecom_scam_drawdown_intervened": (">=", 0.70),
    "normal_apply_rejected": ("<=", 0.01),
    "normal_drawdown_interrupted": ("<=", 0.005),
}
PII_KEY = "tianwang-backtest"  # throwaway data folders: any fixed key will do


@dataclass
class Tally:
    """What one policy did to every event of the log, counted by what the event really was."""

    events: int = 0
    duplicates: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)  # label → events
    label_scene_outcome: Counter = field(default_factory=Counter)  # (label, scene, outcome) → events
    stopped: Counter = field(default_factory=Counter)  # label → events stopped
    intervened: Counter = field(default_factory=Counter)  # label → events intervened
    cases: dict[tuple[str, str], bool] = field(default_factory=dict)  # (label, attack_id) → caught
    scam_drawdowns: Counter = field(default_factory=Counter)  # "events", "intervened"
    group_scene_outcome: Counter = field(default_factory=Counter)  # hard-normal (group, scene, outcome)
    review_by_day: Counter = field(default_factory=Counter)
    days: set = field(default_factory=set)  # every calendar day the log has an event on (a day without reviews counts)
    money_at_risk: Counter = field(default_factory=Counter)  # label → fen in attack apply/drawdown/payment
    money_protected: Counter = field(default_factory=Counter)  # label → fen of those stopped
    held: dict[str, str] = field(default_factory=dict)  # event_id → label, of apply/drawdown decisions held
    held_by_label: Counter = field(default_factory=Counter)  # (label, scene) → held
    revised: Counter = field(default_factory=Counter)  # (label, scene) → held, then rejected by reverse notification
    seconds: float = 0.0

    def add(self, raw: dict, decision: dict, tz) -> None:
        if decision.get("duplicate"):
            self.duplicates += 1
            return
        outcome, scene = decision["outcome"], decision["scene"]
        label = raw.get("label") or UNLABELLED
        stopped = outcome in STOPPED
        intervened = outcome != "pass" or bool(decision.get("interventions"))
        self.events += 1
        self.outcomes[outcome] += 1
        self.labels[label] += 1
        self.label_scene_outcome[label, scene, outcome] += 1
        day = _day(decision["occurred_at"], tz)
        self.days.add(day)
        if outcome == "review":
            self.review_by_day[day] += 1
        if outcome in HELD and scene in ("apply", "drawdown"):
            self.held[decision["event_id"]] = f"{label}\t{scene}"
            self.held_by_label[label, scene] += 1
        if label == NORMAL:
            group = raw.get("group")
            if group:
                self.group_scene_outcome[group, scene, outcome] += 1
            return
        if label == UNLABELLED:
            return
        self.stopped[label] += stopped
        self.intervened[label] += intervened
        case = raw.get("attack_id") or raw.get("ring_id") or f"event:{decision['event_id']}"
        self.cases[label, case] = self.cases.get((label, case), False) or stopped
        if label == "telecom_scam" and scene == "drawdown":
            self.scam_drawdowns["events"] += 1
            self.scam_drawdowns["intervened"] += intervened
        if scene in MONEY_SCENES:
            amount = _amount(raw)
            self.money_at_risk[label] += amount
            if stopped:
                self.money_protected[label] += amount


def _amount(raw: dict) -> int:
    value = raw.get("amount")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


_day_cache: dict[str, str] = {}


def _day(occurred_at: Any, tz) -> str:
    """The calendar day (in the platform's clock) of an event, cached per hour of the stamp."""
    if isinstance(occurred_at, datetime):
        return occurred_at.astimezone(tz).date().isoformat()
    key = occurred_at[:13] + occurred_at[19:]  # date, hour and offset; minutes never change the day
    day = _day_cache.get(key)
    if day is None:
        day = _day_cache[key] = datetime.fromisoformat(occurred_at).astimezone(tz).date().isoformat()
    return day


@contextmanager
def scratch_platform(policy_dir: Path) -> Iterator[Any]:
    """A scratch platform (nothing stored, no checkpoint) on a fresh data folder, `policy_dir` live."""
    from tianwang.config import Settings
    from tianwang.app import boot

    with tempfile.TemporaryDirectory(prefix="tianwang-backtest-") as tmp:
        settings = Settings.from_env({}, data_dir=Path(tmp), policy_dir=Path(policy_dir), pii_key=PII_KEY)
        rt = boot.open(settings, background=False, scratch=True)
        try:
            yield rt
        finally:
            rt.close()


def tally_log(rt: Any, log: Path, *, console: Console, stop_on_error: bool = False, label: str = "replaying",
              total_lines: int | None = None, report: Callable[[int, int, float], None] | None = None) -> Tally:
    """Decide every line of `log` on `rt`; tally by ground truth (see replay_local for `report`)."""
    tally = Tally()
    summary = replay_local(rt, log, tenant="demo", stop_on_error=stop_on_error, console=console,
                           observe=lambda raw, decision: tally.add(raw, decision, rt.timezone),
                           label=label, total=total_lines, report=report)
    tally.seconds = summary.seconds
    tally.bad_lines = sorted(summary.bad_lines)
    book = rt.live.hold_books.get("demo")
    for event_id in (book.revised or []) if book is not None else []:
        label, _, scene = tally.held.get(event_id, f"{UNLABELLED}\t?").partition("\t")
        tally.revised[label, scene] += 1
    tally.held.clear()  # sent back to the parent process: only the counts
    return tally


def run_policy(policy_dir: Path, log: Path, *, console: Console, stop_on_error: bool = False,
               label: str | None = None, total_lines: int | None = None) -> Tally:
    """Decide every line of `log` with `policy_dir` on a fresh scratch platform, in this process."""
    with scratch_platform(policy_dir) as rt:
        return tally_log(rt, log, console=console, stop_on_error=stop_on_error, label=label or str(policy_dir),
                         total_lines=total_lines)


def _worker(conn: Connection, policy_dir: Path, log: Path, stop_on_error: bool) -> None:
    """One policy in a process of its own: progress, then the tally (or the failure), through `conn`."""
    last = [0.0]

    def report(n: int, events: int, seconds: float) -> None:
        if seconds - last[0] >= 0.25:
            last[0] = seconds
            conn.send(("progress", n, events, seconds))

    try:
        with scratch_platform(policy_dir) as rt:
            tally = tally_log(rt, log, console=Console(quiet=True), stop_on_error=stop_on_error, report=report)
        conn.send(("done", tally))
    except BaseException:  # noqa: BLE001 — told to the parent, which stops the backtest with it
        conn.send(("failed", traceback.format_exc()))
    conn.close()
    # `rt` still holds the window state: leave without freeing it object by object, which
    # takes seconds on a month, for memory the process is about to give back anyway.
    os._exit(0)


def run_policies(runs: dict[str, tuple[Path, str]], log: Path, *, console: Console, stop_on_error: bool = False,
                 jobs: int = 2, total_lines: int | None = None) -> dict[str, Tally]:
    """role → (folder, label): each policy in a process of its own, `jobs` at a time; the tallies by role."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the parent's threads or locks
    total = total_lines if total_lines is not None else count_lines(log)
    todo = list(runs.items())
    running: dict[Connection, tuple[str, Any]] = {}
    tallies: dict[str, Tally] = {}
    try:
        with progress_bars(console) as progress:
            bars = {role: progress.add_task(label, total=total, rate="") for role, (_, label) in runs.items()}
            while todo or running:
                while todo and len(running) < jobs:
                    role, (folder, _) = todo.pop(0)
                    ours, theirs = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_worker, args=(theirs, Path(folder), Path(log), stop_on_error),
                                       name=f"backtest-{role}", daemon=True)
                    proc.start()
                    theirs.close()
                    running[ours] = (role, proc)
                for conn in wait(list(running)):
                    role, proc = running[conn]
                    try:
                        kind, *data = conn.recv()
                    except EOFError:
                        proc.join()
                        raise TianwangError(f"the backtest of {role} ended without its figures "
                                            f"(exit code {proc.exitcode}; out of memory?)") from None
                    if kind == "progress":
                        n, events, seconds = data
                        progress.update(bars[role], completed=n, rate=f"{events / seconds:,.0f} ev/s")
                        continue
                    del running[conn]
                    conn.close()
                    proc.join()
                    if kind == "failed":
                        raise TianwangError(f"the backtest of {role} failed:\n{data[0]}")
                    tallies[role] = tally = data[0]
                    if not (stop_on_error and tally.bad_lines):
                        progress.update(bars[role], completed=total,
                                        rate=f"{tally.events / tally.seconds:,.0f} ev/s" if tally.seconds else "")
    finally:
        for _, proc in running.values():  # after a failure: the others stop too
            proc.terminate()
            proc.join()
    return tallies


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _target(name: str, part: int, whole: int) -> dict:
    op, bound = TARGETS[name]
    share = _share(part, whole)
    met = None if share is None else (share >= bound if op == ">=" else share <= bound)
    return {"events": whole, "count": part, "share": share, "target": f"{op} {bound:.1%}", "met": met}


def figures(tally: Tally) -> dict:
    """The JSON figures of one policy's run."""
    lso = tally.label_scene_outcome
    attacks = sorted(lb for lb in tally.labels if lb not in (NORMAL, UNLABELLED))

    per_type = {}
    for lb in attacks:
        cases = [caught for (label, _), caught in tally.cases.items() if label == lb]
        by_scene: dict[str, dict[str, int]] = {}
        for (label, scene, outcome), n in lso.items():
            if label == lb:
                by_scene.setdefault(scene, dict.fromkeys(OUTCOMES, 0))[outcome] += n
        per_type[lb] = {
            "events": tally.labels[lb],
            "stopped": tally.stopped[lb],
            "stopped_share": _share(tally.stopped[lb], tally.labels[lb]),
            "intervened": tally.intervened[lb],
            "intervened_share": _share(tally.intervened[lb], tally.labels[lb]),
            "cases": len(cases),
            "cases_caught": sum(cases),
            "cases_caught_share": _share(sum(cases), len(cases)),
            "by_scene": dict(sorted(by_scene.items())),
        }

    def scene_outcomes(label: str, scene: str) -> Counter:
        return Counter({o: lso[label, scene, o] for o in OUTCOMES})

    ring_apply = sum((scene_outcomes(lb, "apply") for lb in RING_TYPES), Counter())
    normal_apply = scene_outcomes(NORMAL, "apply")
    normal_drawdown = scene_outcomes(NORMAL, "drawdown")
    targets = {
        "ring_apply_stopped": _target("ring_apply_stopped", sum(ring_apply[o] for o in STOPPED), sum(ring_apply.values())),
        "telecom_scam_drawdown_intervened": _target(
            "telecom_scam_drawdown_intervened", tally.scam_drawdowns["intervened"], tally.scam_drawdowns["events"]),
        "normal_apply_rejected": _target("normal_apply_rejected", normal_apply["reject"], sum(normal_apply.values())),
        "normal_drawdown_interrupted": _target(
            "normal_drawdown_interrupted", sum(normal_drawdown.values()) - normal_drawdown["pass"], sum(normal_drawdown.values())),
    }

    normal_total = tally.labels[NORMAL]
    normal_outcomes = Counter()
    by_scene = {}
    for scene in sorted({s for (lb, s, _) in lso if lb == NORMAL}):
        c = scene_outcomes(NORMAL, scene)
        normal_outcomes += c
        events = sum(c.values())
        by_scene[scene] = {"events": events, "outcomes": {o: c[o] for o in OUTCOMES},
                           "interrupted_share": _share(events - c["pass"], events),
                           "rejected_share": _share(c["reject"], events)}
    by_group = {}
    gso = tally.group_scene_outcome
    for group in sorted({g for (g, _, _) in gso}):
        c = Counter()
        for (g, _, o), n in gso.items():
            if g == group:
                c[o] += n
        apply_ = Counter({o: gso[group, "apply", o] for o in OUTCOMES})
        draw = Counter({o: gso[group, "drawdown", o] for o in OUTCOMES})
        events = sum(c.values())
        by_group[group] = {
            "events": events,
            "outcomes": {o: c[o] for o in OUTCOMES},
            "interrupted_share": _share(events - c["pass"], events),
            "apply_events": sum(apply_.values()),
            "apply_rejected_share": _share(apply_["reject"], sum(apply_.values())),
            "drawdown_events": sum(draw.values()),
            "drawdown_interrupted_share": _share(sum(draw.values()) - draw["pass"], sum(draw.values())),
        }
    false_positives = {
        "normal_events": normal_total,
        "by_outcome": {o: {"events": normal_outcomes[o], "share": _share(normal_outcomes[o], normal_total)} for o in OUTCOMES},
        "by_scene": by_scene,
        "by_group": by_group,
    }

    protected, at_risk = sum(tally.money_protected.values()), sum(tally.money_at_risk.values())
    money = {
        "protected_fen": protected,
        "protected_yuan": protected / 100,
        "at_risk_fen": at_risk,
        "at_risk_yuan": at_risk / 100,
        "share": _share(protected, at_risk),
        "by_type_yuan": {lb: {"protected": tally.money_protected[lb] / 100, "at_risk": tally.money_at_risk[lb] / 100}
                         for lb in attacks if tally.money_at_risk[lb]},
    }
    days = sorted(tally.days | set(tally.review_by_day))
    return {
        "events": tally.events,
        "duplicates": tally.duplicates,
        "bad_lines": len(tally.bad_lines),
        "seconds": round(tally.seconds, 3),
        "events_per_s": round(tally.events / tally.seconds, 1) if tally.seconds else None,
        "outcomes": {o: tally.outcomes[o] for o in OUTCOMES},
        "labels": dict(sorted(tally.labels.items())),
        "attack_types": per_type,
        "targets": targets,
        "false_positives": false_positives,
        "review_per_day": {d: tally.review_by_day[d] for d in days},
        "review_per_day_mean": round(sum(tally.review_by_day.values()) / len(days), 1) if days else 0.0,
        "money": money,
        # Held applications and drawdowns (review / verify / delay), and those a reverse trigger
        # rejected afterwards (their ring crossed it): by label and scene.
        "reverse_notification": {
            f"{label}/{scene}": {"held": n, "revised_to_reject": tally.revised[label, scene]}
            for (label, scene), n in sorted(tally.held_by_label.items())
        },
    }


def backtest(policy: Path, events: Path, *, against: Path | None = None, console: Console,
             stop_on_error: bool = False, jobs: int = 2) -> dict:
    """Run the log through `policy` (and `against`), `jobs` at once; the figures of each, and the bad lines."""
    from tianwang.policy.bundle import load_bundle

    bundles = {"policy": (Path(policy), load_bundle(Path(policy)))}  # PolicyError before any replay
    if against is not None:
        bundles["against"] = (Path(against), load_bundle(Path(against)))
    total = count_lines(events)
    runs = {role: (folder, f"{role}: {bundle.name}") for role, (folder, bundle) in bundles.items()}
    tallies = run_policies(runs, events, console=console, stop_on_error=stop_on_error, jobs=jobs, total_lines=total)
    out: dict[str, Any] = {"log": str(events), "lines": total, "bad_lines": [], "policies": {}}
    for role, (folder, bundle) in bundles.items():
        tally = tallies[role]
        if role == "policy":
            out["bad_lines"] = [{"line": n, "message": m} for n, m in tally.bad_lines]
        if stop_on_error and tally.bad_lines:
            n, message = tally.bad_lines[0]
            console.print(f"[bold red]{role} stopped[/] at line {n}: {escape(message)}")
        out["policies"][role] = {"folder": str(folder), "name": bundle.name, **figures(tally)}
    return out
