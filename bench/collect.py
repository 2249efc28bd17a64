"""Collection throughput: captured events per second through POST /v1/collect, beside the same
events sent as `behavior` events to POST /v1/events/batch in the same run (the baseline: the walk
alone, without beacon checks, device resolution and collection rules).

    .venv/bin/python bench/collect.py [--seconds 10] [--clients 8] [--per-beacon 20]

The server runs in its own process on core 0 (`tianwang serve`), the clients in this one on
core 1: threads posting beacons of `per-beacon` events (a page's worth: page view, inputs,
clicks, a submit, a behaviour summary), each with a new batch id; one beacon in five carries
the device's attribute set (a page load), the others the token only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tianwang.collect.beacon import parse_beacon, path_of, to_event  # noqa: E402

KEY = "tw_bench_key_0123456789abcdef"


def attrs(n: int) -> dict:
    return {
        "user_agent": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{120 + n % 7}.0.0.0 Safari/537.36",
        "platform": "Win32", "browser": {"name": "Chrome", "version": 120 + n % 7}, "os": {"name": "Windows", "version": "10"},
        "languages": ["zh-CN", "zh"], "timezone": "Asia/Shanghai", "tz_offset": -480,
        "screen": {"w": 1920, "h": 1080, "avail_w": 1920, "avail_h": 1040, "depth": 24, "dpr": 1.0},
        "hardware_concurrency": 4 + n % 3 * 4, "device_memory": 8, "touch_points": 0, "touch": False,
        "canvas": f"{n % 997:08x}", "webgl": {"vendor": "Google Inc.", "renderer": f"ANGLE (GPU {n % 53})", "hash": f"{n % 211:08x}"},
        "audio": f"{n % 31:08x}", "fonts": ["Arial", "SimSun", f"Font{n % 13}"], "plugins": ["PDF Viewer"],
        "storage_id": str(uuid.UUID(int=n)), "cookies": True,
        "automation": {"webdriver": False, "headless_ua": False, "no_plugins": False, "no_languages": False,
                       "chrome_missing": False, "permissions_inconsistent": False, "window_outer_zero": False},
    }


def beacon(i: int, per: int) -> dict:
    now = int(time.time() * 1000)
    events = [{"type": "page_view", "ts": now, "url": "https://lender.example/apply"}]
    for k in range(per - 3):
        events.append({"type": "input" if k % 2 else "click", "ts": now + k * 300, "url": "https://lender.example/apply",
                       "selector": f"body > form#apply > div:nth-of-type({k % 6 + 1}) > input", "tag": "input",
                       "name": ["name", "id_number", "phone"][k % 3], "input_type": "text", "length": 11, "field_ms": 2000,
                       "pasted": False, "keystrokes": 11})
    events.append({"type": "submit", "ts": now + per * 300, "url": "https://lender.example/apply",
                   "selector": "body > form#apply", "tag": "form", "fill_ms": 60_000})
    events.append({"type": "behavior", "ts": now + per * 300, "url": "https://lender.example/apply",
                   "keys": {"count": 40, "mean_ms": 180.0, "sd_ms": 50.0}, "mouse": {"moves": 90, "straightness": 0.6}})
    device = {"token": None, "attrs": attrs(i // 5) if i % 5 == 0 else None}
    return {"v": 1, "batch_id": str(uuid.uuid4()), "sent_at": now, "session_id": f"s{i}", "customer_id": f"c{i // 5}",
            "device": device, "events": events}


def as_batch(b: dict) -> list[dict]:
    """The same captured events as behavior events for /v1/events/batch (what the walk alone costs)."""
    parsed = parse_beacon({**b, "batch_id": str(uuid.uuid4())})
    now = int(time.time() * 1000)
    return [to_event(parsed, n, e, device_id=None, ip="10.0.0.1", now_ms=now, virtual=None, path=path_of(e))
            for n, e in enumerate(parsed.events)]


def drive(url: str, bodies: list, seconds: float, clients: int, params: dict | None) -> dict:
    latencies: list[float] = []
    sent = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    cursor = [0]

    def client() -> None:
        with httpx.Client(timeout=30, headers={"X-API-Key": KEY, "Content-Type": "application/json"}) as http:
            while time.monotonic() < stop:
                with lock:
                    if cursor[0] >= len(bodies):
                        return
                    body = bodies[cursor[0]]
                    cursor[0] += 1
                t = time.perf_counter()
                r = http.post(url, content=body, params=params)
                r.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t)
                    sent[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": sent[0], "seconds": elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-beacon", type=int, default=20)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})
    folder = Path(tempfile.mkdtemp(prefix="tw-bench-collect-"))
    port = 8797
    env = dict(os.environ, TIANWANG_DATA_DIR=str(folder), TIANWANG_API_KEY=KEY, TIANWANG_PII_KEY="bench")
    cmd = [str(ROOT / ".venv" / "bin" / "tianwang"), "serve", "--port", str(port)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        n = int(args.seconds * 400) + 200
        beacons = [beacon(i, args.per_beacon) for i in range(n)]
        rows = {}
        for name, url, bodies, params in (
            ("POST /v1/events/batch (baseline)", f"{base}/v1/events/batch",
             [orjson.dumps({"events": as_batch(b)}) for b in beacons], None),
            ("POST /v1/collect", f"{base}/v1/collect", [orjson.dumps(b) for b in beacons], {"site": "demo"}),
        ):
            drive(url, bodies[:50], 2, args.clients, params)  # warm
            rows[name] = drive(url, bodies[50:], args.seconds, args.clients, params)
        table = Table("endpoint", "requests", "events / s", "p50 ms", "p99 ms",
                      title=f"{args.per_beacon} captured events a request, {args.clients} clients, {args.seconds:g} s")
        for name, r in rows.items():
            table.add_row(name, f"{r['requests']:,}", f"{r['requests'] * args.per_beacon / r['seconds']:,.0f}",
                          f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}")
        Console().print(table)
        base_rate, rate = (r["requests"] / r["seconds"] for r in rows.values())
        print(f"collect / baseline: {rate / base_rate:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
