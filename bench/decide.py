"""Decision throughput and latency, each figure beside its baseline from the same run.

    .venv/bin/python bench/decide.py [--events 20000] [--declared 100000] [--http-seconds 10]

1. In process, pinned to one core (the writer thread shares it): decisions per second with
   durable commits, and p50 / p99 of the walk, with the default policy.
2. The same with 100,000 extra variables declared in the bundle (none used by a strategy):
   the cost of scale, as a ratio to (1).
3. Over HTTP: the server in its own process on core 0, wrk on core 1. POST /v1/events against
   GET /healthz of the same app (the ceiling), with the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tianwang.app import boot  # noqa: E402
from tianwang.config import Settings  # noqa: E402
from tianwang.ingest.walk import accept  # noqa: E402
from tianwang.live.policies import DEFAULT_POLICY  # noqa: E402
from tianwang.sim.sample import sample_day  # noqa: E402
from tianwang.tenants.service import Tenant  # noqa: E402

DEMO = Tenant("demo", "demo")
IN_FLIGHT = 512


def traffic(n: int, prefix: str = "b") -> list[dict]:
    """Simulated days of a lender's traffic (every scene, honest and attacking), in time order."""
    start = datetime(2026, 6, 1, tzinfo=timezone(timedelta(hours=8)))
    events, day = [], 0
    while len(events) < n:
        events += sample_day(seed=day, customers=400, start=start + timedelta(days=day), prefix=f"{prefix}{day}")
        day += 1
    return events[:n]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def in_process(policy_dir: Path, events: list[dict], warm: int, writer_core: int) -> dict:
    """One run; the walk on core 0, the writer thread on `writer_core` (0: sharing it)."""
    folder = Path(tempfile.mkdtemp(prefix="tw-bench-"))
    try:
        t0 = time.perf_counter()
        rt = boot.open(Settings.from_env({}, data_dir=folder, policy_dir=policy_dir, pii_key="bench"), background=False)
        opened = time.perf_counter() - t0
        os.sched_setaffinity(rt.writer._thread.native_id, {writer_core})
        pending = []
        for e in events[:warm]:
            pending.append(accept(rt, DEMO, e))
        for p in pending:
            p.wait()
        # Like a server with many requests in flight: at most IN_FLIGHT decisions await their commit.
        pending, walk = deque(), []
        started = time.perf_counter()
        for e in events[warm:]:
            t = time.perf_counter()
            pending.append(accept(rt, DEMO, e))
            walk.append((time.perf_counter() - t) * 1000)
            if len(pending) > IN_FLIGHT:
                pending.popleft().wait()
        for p in pending:
            p.wait()
        elapsed = time.perf_counter() - started
        computed = len({n for plan in rt.policies.bundle("demo")[0].plans.values() for n in plan.names})
        declared = len(rt.policies.bundle("demo")[0].variables)
        rt.close()
        return {
            "declared": declared,
            "computed": computed,
            "rate": (len(events) - warm) / elapsed,
            "p50": pct(walk, 0.5),
            "p99": pct(walk, 0.99),
            "open_s": opened,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def big_bundle(declared: int) -> Path:
    """The default bundle plus `declared` variables no strategy reads."""
    folder = Path(tempfile.mkdtemp(prefix="tw-bundle-"))
    shutil.copytree(DEFAULT_POLICY, folder, dirs_exist_ok=True)
    aggs = ["count", "sum", "max", "distinct"]
    keys = ["device_id", "ip", "customer_id", "phone_hash", "[device_id, customer_id]"]
    lines = ["variables:"]
    for i in range(declared):
        if i % 4 == 3:
            lines.append(f"  - {{name: extra_{i}, kind: expr, expr: \"extra_{i - 1} * 2 + 1\", description: extra}}")
            continue
        agg = aggs[i % len(aggs)]
        of = ", of: amount" if agg in ("sum", "max", "distinct") else ""
        lines.append(
            f"  - {{name: extra_{i}, kind: window, scene: apply, by: {keys[i % len(keys)]}, window: {1 + i % 90}d, "
            f"agg: {agg}{of}, description: extra}}"
        )
    (folder / "variables" / "extra.yaml").write_text("\n".join(lines) + "\n")
    return folder


WRK_SCRIPT = r"""
-- Sends the lines of a JSONL file (the same simulated traffic as the in-process run), in order.
local bodies = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
request = function()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format("POST", "/v1/events", HEADERS, bodies[i])
end
"""


def http(seconds: int, connections: int) -> dict:
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install wrk; `make bench` does it)"}
    folder = Path(tempfile.mkdtemp(prefix="tw-bench-http-"))
    port = 8799
    env = dict(os.environ, TIANWANG_DATA_DIR=str(folder), TIANWANG_API_KEY="tw_bench_key_0123456789abcdef", TIANWANG_PII_KEY="bench")
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(ROOT / ".venv" / "bin" / "tianwang"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_up(port)
        script = folder / "events.lua"
        script.write_text(WRK_SCRIPT.replace("HEADERS", '{["X-API-Key"]="tw_bench_key_0123456789abcdef", ["Content-Type"]="application/json"}'))
        # Enough distinct events that none repeats (a repeat is answered from the record, cheaper).
        logs = {}
        for run, n in (("warm", 3000 * 3), ("run", 3000 * (seconds + 2))):
            logs[run] = folder / f"{run}.jsonl"
            logs[run].write_text("\n".join(orjson.dumps(e).decode() for e in traffic(n, prefix=run)) + "\n")
        out = {}
        ceiling = [f"http://127.0.0.1:{port}/healthz"]
        _wrk(["-d", "2s"] + ceiling, connections)
        out["healthz"] = _wrk(["-d", f"{seconds}s"] + ceiling, connections)
        events = ["-s", str(script), f"http://127.0.0.1:{port}/v1/events", "--"]
        _wrk(["-d", "3s"] + events + [str(logs["warm"])], connections)
        out["events"] = _wrk(["-d", f"{seconds}s"] + events + [str(logs["run"])], connections)
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_up(port: int) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def _wrk(args: list[str], connections: int) -> dict:
    cmd = ["taskset", "-c", "1", "wrk", "-t", "1", "-c", str(connections), "--latency"] + args
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(next(l for l in text.splitlines() if l.startswith("Requests/sec")).split()[1])
    p99 = next(l for l in text.splitlines() if l.strip().startswith("99%")).split()[1]
    errors = next((l.strip() for l in text.splitlines() if "Non-2xx" in l), "")
    return {"rate": rate, "p99": p99, "errors": errors}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--warm", type=int, default=5000)
    ap.add_argument("--declared", type=int, default=100_000)
    ap.add_argument("--http-seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each in-process case; medians are shown")
    args = ap.parse_args()
    os.sched_setaffinity(0, {0})
    events = traffic(args.events)
    big_dir = big_bundle(args.declared)

    cases = [
        ("default policy, writer on the same core", DEFAULT_POLICY, 0),
        (f"+{args.declared:,} declared, writer on the same core", big_dir, 0),
        ("default policy, writer on core 1", DEFAULT_POLICY, 1),
    ]
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in cases}
    for _ in range(args.repeat):  # interleaved, so drift in the machine hits every case alike
        for name, folder, core in cases:
            runs[name].append(in_process(folder, events, args.warm, core))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    print(f"\nin process, walk pinned to core 0, {args.events - args.warm} events after {args.warm} warm-up, "
          f"durable commits, at most {IN_FLIGHT} awaiting commit; median of {args.repeat} runs")
    print(f"{'case':46} {'declared':>9} {'computed':>9} {'decisions/s':>12} {'walk p50 ms':>12} {'walk p99 ms':>12} {'open s':>7}")
    for name, r in med.items():
        print(f"{name:46} {r['declared']:>9,.0f} {r['computed']:>9,.0f} {r['rate']:>12,.0f} {r['p50']:>12.3f} "
              f"{r['p99']:>12.3f} {r['open_s']:>7.1f}")
    base, big = med[cases[0][0]], med[cases[1][0]]
    print(f"with {args.declared:,} more declared: throughput {big['rate'] / base['rate']:.2f}x, p99 {big['p99'] / base['p99']:.2f}x")

    h = http(args.http_seconds, args.connections)
    print(f"\nHTTP, server on core 0, wrk on core 1, {args.connections} connections, {args.http_seconds}s each")
    if "skipped" in h:
        print(h["skipped"])
        return
    print(f"{'endpoint':24} {'requests/s':>11} {'p99':>9}  errors")
    print(f"{'GET /healthz (ceiling)':24} {h['healthz']['rate']:>11,.0f} {h['healthz']['p99']:>9}  {h['healthz']['errors']}")
    print(f"{'POST /v1/events':24} {h['events']['rate']:>11,.0f} {h['events']['p99']:>9}  {h['events']['errors']}")
    print(f"ratio events / ceiling: {h['events']['rate'] / h['healthz']['rate']:.2f}")


if __name__ == "__main__":
    main()
