"""Work done in rounds by a background thread: the webhook deliveries, the intervention tasks.

A subclass sets `thread_name`, `poll_s` and `run_once()`; `start()` runs a round every `poll_s`
seconds (`backoff_s` after one that failed), or at once on `wake()`; `stop()` ends the thread after its current round. A round that
raises (a database that is down, say) is logged and the next one tries again.

On PostgreSQL a round runs only while its process holds the round's lease, a session advisory
lock (`lease_key`), so several workers of a deployment take turns and never run a round of the
same kind at once: a second worker is a standby, not a second sender of every webhook.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

log = logging.getLogger("tianwang")


@contextmanager
def lease(engine: Engine | None, name: str) -> Iterator[bool]:
    """Whether this process may run a round of `name` now: on PostgreSQL, while it holds a session
    advisory lock on the name (one process of the deployment at a time); elsewhere always."""
    if engine is None or engine.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(f"tianwang round {name}".encode())
    with engine.connect() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


class Rounds:
    thread_name = "tianwang-rounds"
    poll_s = 1.0
    backoff_s = 1.0  # the wait after a round that failed (at least poll_s)
    lease_engine: Engine | None = None  # the database whose lease a round needs (None: no lease)

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def start(self) -> None:
        """Run rounds in a daemon thread: one every `poll_s` seconds, or on `wake()`."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Start the next round now (e.g. right after work was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 5) -> None:
        """Stop the thread after its current round, waiting at most `timeout` seconds."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            wait = self.poll_s
            try:
                with lease(self.lease_engine, self.thread_name) as held:
                    if held:
                        self.run_once()
            except Exception:  # noqa: BLE001 — logged; the next round tries again
                log.exception("%s: round failed", self.thread_name)
                wait = max(self.poll_s, self.backoff_s)
            self._wake.wait(wait)
