"""Console pages at scale: each page's query with 1,000,000 decisions and 10,000 cases stored,
beside the same query on a small database (10,000 decisions, 100 cases) in the same run.

    .venv/bin/python bench/console.py [--decisions 1000000] [--cases 10000] [--runs 200]

Both databases are SQLite files filled in bulk (events, decisions, cases and alerts as the walk
and the case work would store them). Each console read is then asked `runs` times over HTTP
(a real server, a signed-in analyst) and p50 / p99 are shown with the ratio large / small: a
page served from an index costs the same whatever the size of the table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serving import Server, open_runtime  # noqa: E402
from tianwang.console.auth import hash_password  # noqa: E402
from tianwang.store import users as user_repo  # noqa: E402
from tianwang.store.schema import alerts, cases, decisions, events  # noqa: E402

PASSWORD = "bench password 1"
T0 = 1_767_225_600_000  # 2026-01-01


def fill(rt, n_decisions: int, n_cases: int, seed: int = 0) -> None:
    """Bulk rows: events + decisions for n customers' worth, cases and their alerts."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    customers = max(10, n_decisions // 12)
    outcomes = ["pass"] * 95 + ["review"] * 3 + ["reject"] * 2
    batch_e, batch_d = [], []
    with rt.db.begin() as conn:
        for i in range(n_decisions):
            cid = f"c{rng.randrange(customers)}"
            ts = T0 + i * 1000
            eid = f"e{i}"
            batch_e.append({"tenant": "demo", "event_id": eid, "scene": "login", "customer_id": cid, "ts": ts,
                            "body_hash": "0" * 64, "payload": {"event_id": eid, "customer_id": cid, "scene": "login", "ts": ts},
                            "received_at": now})
            batch_d.append({"tenant": "demo", "event_id": eid, "scene": "login", "customer_id": cid, "ts": ts,
                            "outcome": rng.choice(outcomes), "score": rng.randrange(100), "reasons": [], "interventions": [],
                            "values": {}, "policy_version": 1, "strategy": "login_main", "shadow": [], "fallback": None,
                            "delay_until": None, "latency_us": 300, "decided_at": now})
            if len(batch_e) == 20_000:
                conn.execute(events.insert(), batch_e)
                conn.execute(decisions.insert(), batch_d)
                batch_e, batch_d = [], []
        if batch_e:
            conn.execute(events.insert(), batch_e)
            conn.execute(decisions.insert(), batch_d)
        rows_c, rows_a = [], []
        for k in range(1, n_cases + 1):
            status = rng.choice(["open", "open", "investigating", "closed"])
            rows_c.append({"id": k, "tenant": "demo", "subject_kind": "customer", "subject_id": f"c{k}", "status": status,
                           "owner": rng.choice([None, "ivy", "ana"]), "disposition": None, "fraud_type": None,
                           "priority": rng.randrange(150), "alerts": 2, "first_ts": T0, "last_ts": T0 + k,
                           "created_at": now, "updated_at": now, "closed_at": None})
            for j in range(2):
                rows_a.append({"tenant": "demo", "kind": "decision", "source": f"e-case-{k}-{j}", "customer_id": f"c{k}",
                               "ring_id": None, "case_id": k, "score": 40, "reason": "bench", "ts": T0 + k, "created_at": now})
        conn.execute(cases.insert(), rows_c)
        conn.execute(alerts.insert(), rows_a)
        user_repo.create_user(conn, tenant="demo", username="ana", password_hash=hash_password(PASSWORD), role="admin")


PAGES = [
    ("live decisions: newest 100", "/console/api/decisions", {"limit": 100}),
    ("live decisions: after a seq", "/console/api/decisions", {"after": "LAST", "limit": 100}),
    ("decisions of one outcome", "/console/api/decisions", {"outcome": "reject", "limit": 100}),
    ("a customer's page", "/console/api/customers/c7", {}),
    ("case queue: open, by priority", "/console/api/cases", {"status": "open", "limit": 50}),
    ("case queue: mine", "/console/api/cases", {"owner": "me", "limit": 50}),
    ("a case's page", "/console/api/cases/7", {}),
    ("audit log page", "/console/api/audit", {"limit": 100}),
]


def measure(rt, runs: int) -> dict[str, tuple[float, float] | str]:
    out: dict[str, tuple[float, float] | str] = {}
    with Server(rt) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        r = http.post("/console/api/signin", json={"tenant": "demo", "username": "ana", "password": PASSWORD})
        r.raise_for_status()
        last = http.get("/console/api/decisions", params={"limit": 1}).json()["last_seq"]
        for name, path, params in PAGES:
            params = {k: (max(0, last - 500) if v == "LAST" else v) for k, v in params.items()}
            first = http.get(path, params=params)
            if first.status_code != 200:
                out[name] = f"HTTP {first.status_code}"
                continue
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                http.get(path, params=params).raise_for_status()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            out[name] = (statistics.median(times), times[int(0.99 * (len(times) - 1))])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    results = {}
    for label, n_dec, n_cases in (("small", 10_000, 100), ("large", args.decisions, args.cases)):
        folder = Path(tempfile.mkdtemp(prefix=f"tw-bench-console-{label}-"))
        rt = open_runtime(folder, None)
        started = time.perf_counter()
        fill(rt, n_dec, n_cases)
        print(f"{label}: {n_dec:,} decisions and {n_cases:,} cases stored in {time.perf_counter() - started:.0f} s")
        results[label] = measure(rt, args.runs)
        rt.close()
    table = Table("page", "small p50 ms", "small p99 ms", "large p50 ms", "large p99 ms", "p50 large / small",
                  title=f"console reads over HTTP: {args.decisions:,} decisions and {args.cases:,} cases "
                        f"against 10,000 and 100 ({args.runs} runs each)")
    for name, _, _ in PAGES:
        small, large = results["small"][name], results["large"][name]
        if isinstance(small, str) or isinstance(large, str):
            table.add_row(name, str(small), "", str(large), "", "")
            continue
        table.add_row(name, f"{small[0]:.1f}", f"{small[1]:.1f}", f"{large[0]:.1f}", f"{large[1]:.1f}",
                      f"{large[0] / small[0]:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
