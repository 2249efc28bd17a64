"""Backtest throughput and memory, each configuration beside the others in the same run.

    .venv/bin/python bench/backtest.py [--customers 20000] [--days 7] [--log PATH]

A simulated log (or the one given) goes through the default policy four ways, each in a fresh
process tree whose resident memory is sampled every 0.1 s (summed over its processes: what the
machine must have):

1. one policy, records stored: the walk as `tianwang replay` runs it (SQLite with durable
   commits, every decision and its values written, a state checkpoint on close); what the
   backtest did before it had a scratch runtime.
2. one policy, scratch: `tianwang backtest` (nothing stored, no checkpoint; its own process).
3. policy and `--against` one after the other: `--jobs 1`.
4. policy and `--against` at once, a process each: `--jobs 2`.

events/s counts every policy's events over the wall time of the whole command (start-up,
reading the log and the report included); "replay events/s" is the walk alone, per policy.
Cases 2–4 must give the same figures; the bench checks it. The machine has 2 cores: case 4
is as fast as two policies can go here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tianwang.live.policies import DEFAULT_POLICY  # noqa: E402


def _tree(pid: int) -> list[int]:
    """pid and every process below it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += map(int, f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def measure(cmd: list[str], stdout=subprocess.DEVNULL) -> dict:
    """Run `cmd`; wall seconds and the peak of its process tree's resident memory (MB)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=err, cwd=ROOT)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, sum(_rss_kb(p) for p in _tree(proc.pid)))
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
    return {"seconds": seconds, "peak_mb": peak / 1024}


def stored_run(log: Path, policy: Path) -> None:
    """Case 1, in its own process: the walk with records stored, as `tianwang replay` runs it."""
    from rich.console import Console

    from tianwang.app import boot
    from tianwang.backtest import PII_KEY
    from tianwang.config import Settings
    from tianwang.replay import replay_local

    with tempfile.TemporaryDirectory(prefix="tw-bench-stored-") as tmp:
        rt = boot.open(Settings.from_env({}, data_dir=Path(tmp), policy_dir=policy, pii_key=PII_KEY), background=False)
        summary = replay_local(rt, log, tenant="demo", stop_on_error=False, console=Console(quiet=True))
        rt.close()
    print(json.dumps({"events": summary.events, "seconds": summary.seconds}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--log", type=Path, help="a JSONL log to use instead of simulating one")
    ap.add_argument("--stored", type=Path, help=argparse.SUPPRESS)  # case 1's own process
    args = ap.parse_args()
    if args.stored:
        return stored_run(args.stored, DEFAULT_POLICY)

    py = sys.executable
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tw-bench-backtest-") as tmp:
        log = args.log
        if log is None:
            log = Path(tmp) / "sim.jsonl"
            subprocess.run([py, "-m", "tianwang.cli", "simulate", "--customers", str(args.customers), "--days",
                            str(args.days), "--out", str(log)], check=True, capture_output=True, cwd=ROOT)
        with open(log, "rb") as fh:
            lines = sum(1 for _ in fh)
        what = f"{args.customers:,} customers × {args.days} days" if args.log is None else str(log)
        print(f"\nbacktest of the default policy on a simulated log: {what}, {lines:,} events; "
              f"{os.cpu_count()} cores; peak RSS sampled every 0.1 s, summed over the command's processes")

        rows, figures = [], {}
        out = Path(tmp) / "stored.json"
        with open(out, "w") as fh:
            m = measure([py, __file__, "--stored", str(log)], stdout=fh)
        r = json.loads(out.read_text())
        rows.append(("one policy, records stored (the walk of `replay`)", 1, m, [r["events"] / r["seconds"]]))

        base = [py, "-m", "tianwang.cli", "backtest", "--policy", str(DEFAULT_POLICY), "--events", str(log)]
        cases = [
            ("one policy, scratch (`backtest`)", [], 1),
            ("policy + against, one after the other (--jobs 1)", ["--against", str(DEFAULT_POLICY), "--jobs", "1"], 2),
            ("policy + against at once (--jobs 2)", ["--against", str(DEFAULT_POLICY), "--jobs", "2"], 2),
        ]
        for name, extra, policies in cases:
            out = Path(tmp) / "figures.json"
            m = measure(base + extra + ["--json", str(out)])
            result = json.loads(out.read_text())
            runs = result["policies"]
            rows.append((name, policies, m, [f["events_per_s"] for f in runs.values()]))
            for role, f in runs.items():
                figures[(name, role)] = {k: v for k, v in f.items() if k not in ("seconds", "events_per_s", "folder")}

    print(f"{'case':52} {'policies':>8} {'wall s':>8} {'events/s':>9} {'replay events/s':>16} {'peak RSS MB':>12}")
    for name, policies, m, rates in rows:
        print(f"{name:52} {policies:>8} {m['seconds']:>8.1f} {policies * lines / m['seconds']:>9,.0f} "
              f"{' + '.join(f'{r:,.0f}' for r in rates):>16} {m['peak_mb']:>12,.0f}")
    print(f"load average (1 min) before the bench {load:.1f}, after it {os.getloadavg()[0]:.1f}: "
          "a load before it means other processes shared the cores")
    same = len({json.dumps(f, sort_keys=True) for f in figures.values()}) == 1
    print(f"figures of cases 2–4, every policy: {'identical' if same else 'DIFFERENT'}")
    if not same:
        raise SystemExit(1)
    (_, _, stored, _), (_, _, one, _), (_, _, seq, _), (_, _, par, _) = rows
    print(f"scratch vs stored: {stored['seconds'] / one['seconds']:.2f}x faster, "
          f"{one['peak_mb'] / stored['peak_mb']:.2f}x the memory; "
          f"two policies at once vs one after the other: {seq['seconds'] / par['seconds']:.2f}x faster, "
          f"{par['peak_mb'] / seq['peak_mb']:.2f}x the memory")


if __name__ == "__main__":
    main()
