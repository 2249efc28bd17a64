"""Scale-out: the embedded default against server mode with one and two replicas, in one run.

    .venv/bin/python bench/scale.py [--seconds 15] [--connections 32] [--customers 5000 --days 5]

Needs PostgreSQL and Redis (TIANWANG_TEST_PG_URL, TIANWANG_TEST_REDIS_URL; defaults: this
machine's) and wrk. Every mode gets a fresh database schema and Redis namespace.

1. Over HTTP, wrk sending simulated traffic (every event distinct, durable before it is
   answered): decisions per second and p50 / p99 for
   - the embedded default (`tianwang serve`: SQLite, state in memory) — the baseline;
   - server mode, one replica (PostgreSQL, Redis), then two replicas, each with half the
     connections (what a load balancer does), beside `tianwang worker network`.
   For server mode also the windows round trip under that load, from the replicas' histogram
   `tianwang_windows_round_trip_seconds` (/metrics): the bucket its p99 falls under, and the
   share of round trips within 2 ms.
2. In process (three runs, medians), one server-mode replica walking a simulated lender's first days: per event, the
   Redis round trips (the change log with every window read of the decision, then the windows
   append) and the bytes and commands Redis saw (INFO, before and after), the time of the round
   trip that reads the windows (p50 / p99, the target is at most 2 ms at p99), and the Redis
   memory per customer; the decided stream's round trips and memory, the monitoring cube's
   memory, and one worker counting the stream into the cube.
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
import uuid
from pathlib import Path

import orjson
import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from decide import WRK_SCRIPT, _wait_up, traffic  # noqa: E402

from tianwang.app import boot  # noqa: E402
from tianwang.config import Settings  # noqa: E402
from tianwang.ingest.walk import accept  # noqa: E402
from tianwang.monitor.feed import CubeConsumer, record_facts  # noqa: E402
from tianwang.sim.run import simulate  # noqa: E402
from tianwang.state.redis import split_url  # noqa: E402
from tianwang.tenants.service import Tenant  # noqa: E402

PG = os.environ.get("TIANWANG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TIANWANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
KEY = "tw_bench_key_0123456789abcdef"
TIANWANG = str(ROOT / ".venv" / "bin" / "tianwang")


# ---------------------------------------------------------------------------------------- helpers


class Scratch:
    """A fresh PostgreSQL schema and Redis namespace, dropped afterwards."""

    def __init__(self) -> None:
        self.schema = f"tw_bench_{uuid.uuid4().hex[:8]}"
        self.ns = f"tw_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG, autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{self.schema}"')
        self.db = f"{PG}{'&' if '?' in PG else '?'}options=-csearch_path%3D{self.schema}"
        self.state = f"{REDIS}{'&' if '?' in REDIS else '?'}namespace={self.ns}"

    def drop(self) -> None:
        with psycopg.connect(PG, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        r = redis.Redis.from_url(split_url(REDIS)[0])
        keys = list(r.scan_iter(match=f"{self.ns}:*", count=1000))
        for i in range(0, len(keys), 1000):
            r.unlink(*keys[i:i + 1000])


def redis_stats(r: redis.Redis) -> dict[str, int]:
    info = {**r.info("stats"), **r.info("memory")}
    return {k: int(info[k]) for k in ("total_commands_processed", "total_net_input_bytes", "total_net_output_bytes",
                                       "used_memory")}


def round_trip_buckets(port: int) -> dict[float, float]:
    """A replica's histogram of the windows round trip: upper bound (s) → cumulative count."""
    import httpx

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out = {}
    for line in text.splitlines():
        if line.startswith("tianwang_windows_round_trip_seconds_bucket{"):
            le = line.split('le="')[1].split('"')[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def bucket_p99(before: list[dict], after: list[dict]) -> tuple[float | None, float | None]:
    """From the replicas' histograms before and after a run: the bucket bound the p99 falls under (ms),
    and the share of round trips within 2 ms."""
    cum: dict[float, float] = {}
    for b, a in zip(before, after):
        for le, n in a.items():
            cum[le] = cum.get(le, 0) + n - b.get(le, 0)
    total = cum.get(float("inf"), 0)
    if not total:
        return None, None
    p99 = next(le for le in sorted(cum) if cum[le] >= 0.99 * total)
    return p99 * 1000, cum.get(0.002, 0) / total


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([TIANWANG, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


def wrk(port: int, script: Path, log: Path, seconds: float, connections: int) -> subprocess.Popen:
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{int(seconds)}s", "--latency", "-s", str(script),
           f"http://127.0.0.1:{port}/v1/events", "--", str(log)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def parse_wrk(text: str) -> dict:
    lines = text.splitlines()
    if not any("requests in" in l for l in lines):
        raise RuntimeError(f"wrk gave no result:\n{text}")
    requests = int(next(l for l in lines if "requests in" in l).split()[0])
    non2xx = next((int(l.split()[-1]) for l in lines if "Non-2xx" in l), 0)

    def ms(tag: str) -> float:
        v = next(l for l in lines if l.strip().startswith(tag)).split()[1]
        return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000

    return {"requests": requests, "errors": non2xx, "p50": ms("50%"), "p99": ms("99%")}


# ---------------------------------------------------------------------------------------- 1. HTTP


def http_mode(name: str, replicas: int, events: list[dict], seconds: float, connections: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"tw-scale-{name}-"))
    scratch = Scratch() if replicas else None
    procs: list[subprocess.Popen] = []
    r = redis.Redis.from_url(split_url(REDIS)[0])
    try:
        env = dict(os.environ, TIANWANG_API_KEY=KEY, TIANWANG_PII_KEY="bench", TIANWANG_LOG_LEVEL="warning")
        ports = []
        for i in range(max(1, replicas)):
            port = 8810 + i
            server_mode = ["--db", scratch.db, "--state", scratch.state] if scratch else []
            procs.append(start(["serve", "--port", str(port), "--data-dir", str(folder / f"r{i}"), *server_mode], env))
            _wait_up(port)  # one after the other: the first publishes the policy and fills the state
            ports.append(port)
        if scratch:
            procs.append(start(["worker", "network", "--data-dir", str(folder / "worker"), "--db", scratch.db,
                                "--state", scratch.state], env))
        script = folder / "events.lua"
        script.write_text(WRK_SCRIPT.replace("HEADERS", f'{{["X-API-Key"]="{KEY}", ["Content-Type"]="application/json"}}'))
        share = len(events) // len(ports)
        logs = []
        for i, _ in enumerate(ports):  # each replica its own events: none repeats
            path = folder / f"events{i}.jsonl"
            path.write_text("\n".join(orjson.dumps(e).decode() for e in events[i * share:(i + 1) * share]) + "\n")
            logs.append(path)
        warm = [wrk(p, script, log, 3, max(1, connections // len(ports))) for p, log in zip(ports, logs)]
        for w in warm:
            w.communicate()
        before = redis_stats(r)
        hist0 = [round_trip_buckets(p) for p in ports] if scratch else []
        runs = [wrk(p, script, log, seconds, max(1, connections // len(ports))) for p, log in zip(ports, logs)]
        results = [parse_wrk(w.communicate()[0]) for w in runs]
        after = redis_stats(r)
        trip_p99, within_2ms = bucket_p99(hist0, [round_trip_buckets(p) for p in ports]) if scratch else (None, None)
        done = sum(x["requests"] for x in results)
        return {
            "mode": name, "rate": done / seconds, "errors": sum(x["errors"] for x in results),
            "p50": max(x["p50"] for x in results), "p99": max(x["p99"] for x in results),
            "redis_cmds": (after["total_commands_processed"] - before["total_commands_processed"]) / done if scratch else None,
            "trip_p99": trip_p99, "within_2ms": within_2ms,
        }
    finally:
        stop(procs)
        if scratch:
            scratch.drop()
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------- 2. in process


def in_process(customers: int, days: int, limit: int) -> dict:
    events = []
    for e in simulate(customers=customers, days=days, seed=11):
        events.append(e)
        if len(events) >= limit:
            break
    scratch = Scratch()
    folder = Path(tempfile.mkdtemp(prefix="tw-scale-inproc-"))
    r = redis.Redis.from_url(split_url(REDIS)[0])
    try:
        settings = Settings.from_env({}, data_dir=folder, db=scratch.db, state=scratch.state, api_key=KEY, pii_key="bench")
        rt = boot.open(settings, background=False, deliver=False)
        reads: list[float] = []
        query = rt.live.state.query

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return query(*a, **kw)
            finally:
                reads.append((time.perf_counter() - t) * 1000)

        rt.live.state.query = timed
        # The round trip that reads the windows: the change log's (the read rides with the event's
        # links), or the state's own read when it was not fetched ahead.
        calls: list[float] = []
        call = rt.live.state._call

        def timed_call(sha, *a, **kw):
            t = time.perf_counter()
            try:
                return call(sha, *a, **kw)
            finally:
                if sha == rt.live.state._read_sha:
                    calls.append((time.perf_counter() - t) * 1000)

        rt.live.state._call = timed_call
        consumer = CubeConsumer(rt.stream_url, rt.cube, record_facts(rt.db, rt.cube.retention_s), block_ms=10)
        consumer.run_once()  # marks the empty cube as holding the (no) records: the walk's entries come by the stream
        rt.live.changes.timings = links = []
        tenant = Tenant("demo", "demo")
        before = redis_stats(r)
        trips0 = rt.live.state.round_trips + rt.live.changes.round_trips
        walks: list[float] = []
        t0 = time.perf_counter()
        pending = []
        for e in events:
            t = time.perf_counter()
            pending.append(accept(rt, tenant, e))
            walks.append((time.perf_counter() - t) * 1000)
            if len(pending) >= 64:
                for p in pending:
                    p.wait()
                pending = []
        for p in pending:
            p.wait()
        elapsed = time.perf_counter() - t0
        calls += [x * 1000 for x in links]
        after = redis_stats(r)
        n = len(events)
        # The decided stream: what the writer appended, then one worker's consumer counting it all.
        stream_trips = rt.feed.round_trips
        stream_bytes = r.memory_usage(f"{scratch.ns}:decided") or 0
        t1 = time.perf_counter()
        while consumer.acknowledged < n:
            consumer.run_once()
        count_s = time.perf_counter() - t1
        cube_bytes = sum(r.memory_usage(k) or 0 for k in r.scan_iter(match=f"{scratch.ns}:cube:*", count=1000))
        out = {
            "events": n,
            "customers": len({e["customer_id"] for e in events}),
            "rate": n / elapsed,
            "round_trips": (rt.live.state.round_trips + rt.live.changes.round_trips - trips0) / n,
            "windows_reads": len(calls) / n,  # round trips that read windows
            "read_p50": pct(reads, 0.5), "read_p99": pct(reads, 0.99),
            "call_p50": pct(calls, 0.5), "call_p99": pct(calls, 0.99),
            "walk_p50": pct(walks, 0.5), "walk_p99": pct(walks, 0.99),
            "cmds": (after["total_commands_processed"] - before["total_commands_processed"]) / n,
            "bytes_in": (after["total_net_input_bytes"] - before["total_net_input_bytes"]) / n,
            "bytes_out": (after["total_net_output_bytes"] - before["total_net_output_bytes"]) / n,
            "series": sum(1 for _ in r.scan_iter(match=f"{scratch.ns}:w:*", count=5000)),
        }
        log_bytes = r.memory_usage(f"{scratch.ns}:changes") or 0
        out["memory"] = after["used_memory"] - before["used_memory"] - log_bytes - stream_bytes
        out["log_bytes"] = log_bytes
        out["stream_trips"] = stream_trips / n
        out["stream_bytes"] = stream_bytes
        out["counted"] = consumer.counted
        out["count_rate"] = n / count_s
        out["cube_bytes"] = cube_bytes
        rt.close()
        return out
    finally:
        scratch.drop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--events", type=int, default=20000, help="events walked in process (part 2)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved HTTP runs of each mode (medians shown)")
    ap.add_argument("--inproc-repeat", type=int, default=3, help="runs of the in-process part (medians shown)")
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    if not args.skip_http:
        if shutil.which("wrk") is None:
            sys.exit("wrk is not installed (apt-get install wrk)")
        events = traffic(int(args.seconds + 3) * 1500 * 2, prefix="s")  # more than the fastest mode sends
        print(f"HTTP, {args.connections} connections, {args.seconds:.0f}s after a 3 s warm-up, every event durable")
        modes = (("embedded (SQLite, memory)", 0), ("server, 1 replica", 1), ("server, 2 replicas", 2))
        runs: dict[str, list[dict]] = {name: [] for name, _ in modes}
        for _ in range(args.repeat):  # interleaved, so a noisy minute hits every mode alike
            for name, n in modes:
                runs[name].append(http_mode(name, n, events, args.seconds, args.connections))
        rows = [{"mode": name, **{k: statistics.median(r[k] for r in runs[name])
                                  for k in ("rate", "p50", "p99", "errors")},
                 **{k: None if n == 0 else statistics.median(r[k] for r in runs[name])
                    for k in ("redis_cmds", "trip_p99", "within_2ms")}}
                for name, n in modes]
        each = "; ".join(name + ": " + ", ".join(f"{r['rate']:.0f}" for r in runs[name]) for name, _ in modes)
        print(f"(medians of {args.repeat} interleaved runs; decisions/s of each run: {each})")
        base = rows[0]["rate"]
        print("| mode | decisions/s | × embedded | p50 ms | p99 ms | non-2xx | Redis commands / event "
              "| windows round trip p99 (bucket) | within 2 ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for x in rows:
            cmds = "" if x["redis_cmds"] is None else f"{x['redis_cmds']:.1f}"
            trip = "" if x["trip_p99"] is None else f"≤ {x['trip_p99']:g} ms"
            share = "" if x["within_2ms"] is None else f"{x['within_2ms']:.1%}"
            print(f"| {x['mode']} | {x['rate']:,.0f} | {x['rate'] / base:.2f} | {x['p50']:.1f} | {x['p99']:.1f} | "
                  f"{x['errors']} | {cmds} | {trip} | {share} |")
    xs = [in_process(args.customers, args.days, args.events) for _ in range(args.inproc_repeat)]
    x = {k: statistics.median(r[k] for r in xs) for k in xs[0]}
    print(f"\nIn process, one replica, {x['events']:,.0f} simulated events of {x['customers']:,.0f} customers "
          f"({x['rate']:,.0f} decisions/s, walk p50 {x['walk_p50']:.2f} ms, p99 {x['walk_p99']:.2f} ms); "
          f"median of {len(xs)} runs")
    each = ", ".join(f"{r['call_p99']:.3f}" for r in xs)
    print(f"(the windows round trip's p99 in each run: {each} ms)")
    print("| per event | value |")
    print("| --- | ---: |")
    print(f"| Redis round trips of the walk (change log with the windows read, windows append) | {x['round_trips']:.2f} |")
    print(f"| round trips that read windows, per decision (all of them in one) | {x['windows_reads']:.2f} |")
    print(f"| the round trip that reads them p50 / p99 | {x['call_p50']:.3f} / {x['call_p99']:.3f} ms |")
    print(f"| windows read with decoding p50 / p99 | {x['read_p50']:.3f} / {x['read_p99']:.3f} ms |")
    print(f"| decided stream: round trips (one per committed batch, from the writer thread) | {x['stream_trips']:.3f} |")
    print(f"| Redis commands | {x['cmds']:.1f} |")
    print(f"| bytes to Redis / from Redis (the decided stream's appends included) | {x['bytes_in']:,.0f} / {x['bytes_out']:,.0f} |")
    print(f"| window series | {x['series']:,.0f} ({x['series'] / x['customers']:.1f} a customer) |")
    print(f"| Redis memory, windows | {x['memory'] / 1e6:,.1f} MB ({x['memory'] / x['customers']:,.0f} B a customer) |")
    print(f"| Redis memory, change log | {x['log_bytes'] / 1e6:,.1f} MB ({x['log_bytes'] / x['events']:,.0f} B an event) |")
    print(f"| Redis memory, decided stream | {x['stream_bytes'] / 1e6:,.1f} MB ({x['stream_bytes'] / x['events']:,.0f} B an event) |")
    print(f"| Redis memory, monitoring cube (cells and the ids they counted) | {x['cube_bytes'] / 1e6:,.1f} MB "
          f"({x['cube_bytes'] / x['events']:,.0f} B a decision) |")
    print(f"| one worker counting the decided stream into the cube | {x['count_rate']:,.0f} decisions/s "
          f"({x['counted']:,.0f} counted) |")


if __name__ == "__main__":
    main()
