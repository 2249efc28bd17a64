"""Acknowledged means durable: every event whose Future resolved survives a SIGKILL of the process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from tianwang.store.db import make_engine, migrate
from tianwang.store.events import get_event, max_seq

CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading
    from pathlib import Path
    from tianwang.store.db import make_engine
    from tianwang.store.writer import GroupCommitWriter
    sys.path.insert(0, sys.argv[3])
    from store.helpers import decision_row, event_row

    writer = GroupCommitWriter(make_engine(sys.argv[1], Path(sys.argv[2])), max_batch=50)
    acked = threading.Semaphore(0)
    lock = threading.Lock()

    def report(future, i):
        if future.exception() is None:
            with lock:
                sys.stdout.write(f"ACK ev-{i} {future.result()}\\n")
                sys.stdout.flush()
            acked.release()

    for i in range(100_000):
        writer.submit(event_row(i), decision_row(i)).add_done_callback(lambda f, i=i: report(f, i))
        if i == 2_000:
            for _ in range(300):
                acked.acquire()
            os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_acknowledged_events_survive_a_kill(db_url, tmp_path):
    engine = make_engine(db_url, tmp_path)
    migrate(engine)
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", CHILD, db_url, str(tmp_path), tests_dir],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    acks = [line.split() for line in proc.stdout.splitlines() if line.startswith("ACK ")]
    assert len(acks) >= 300
    with engine.connect() as conn:
        for _, event_id, seq in acks:
            assert get_event(conn, tenant="acme", event_id=event_id)["seq"] == int(seq)
        assert max_seq(conn) >= max(int(seq) for _, _, seq in acks)
    engine.dispose()
