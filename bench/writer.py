"""Writer throughput: 20,000 event+decision pairs submitted from one thread (not a test).

    .venv/bin/python bench/writer.py [postgresql://postgres@127.0.0.1:5432/test]

Prints pairs/s and rows/s (2 rows per pair) for SQLite (synchronous=FULL) and, when a URL is
given, PostgreSQL (in a throwaway schema).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from tianwang.store.db import make_engine, migrate
from tianwang.store.writer import GroupCommitWriter

N = 20_000


def pairs(n: int):
    for i in range(n):
        event = {
            "tenant": "bench",
            "event_id": f"ev-{i}",
            "scene": "drawdown",
            "customer_id": f"c{i % 977}",
            "ts": 1_700_000_000_000 + i,
            "body_hash": f"{i:064x}",
            "payload": {"device_id": f"d{i % 313}", "ip": "10.0.0.1", "amount": 1234.5, "i": i},
        }
        decision = {
            "outcome": "pass",
            "score": 12,
            "reasons": ["R1"],
            "interventions": [],
            "values": {"cnt_dev_1h": 3, "amt_sum_24h": 4000.0},
            "policy_version": 1,
            "strategy": "drawdown",
            "latency_us": 850,
        }
        yield event, decision


def run(label: str, engine: sa.Engine) -> None:
    migrate(engine)
    rows = list(pairs(N))
    writer = GroupCommitWriter(engine)
    start = time.perf_counter()
    futures = [writer.submit(e, d) for e, d in rows]
    writer.flush()
    elapsed = time.perf_counter() - start
    writer.close()
    seqs = [f.result() for f in futures]
    assert seqs == sorted(seqs) and len(set(seqs)) == N
    print(f"{label:<28} {N / elapsed:>10,.0f} pairs/s {2 * N / elapsed:>10,.0f} rows/s  ({elapsed:.2f} s)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(None, Path(tmp))
        run("sqlite (WAL, sync=FULL)", engine)
        engine.dispose()
    if len(sys.argv) > 1:
        schema = f"tw_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(sys.argv[1], Path("."))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in sys.argv[1] else "?"
            engine = make_engine(f"{sys.argv[1]}{sep}options=-csearch_path%3D{schema}", Path("."))
            run("postgresql", engine)
            engine.dispose()
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


if __name__ == "__main__":
    main()
