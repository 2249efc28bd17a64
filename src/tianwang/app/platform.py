"""The running platform: a plain object of narrow parts, built by app/boot.py.

What the edge (api, console, cli) is handed. Each part has one job; the walk reads
`live`, `policies`, `ledger`, `hasher`, `timezone`, `writer`, `feed` and `metrics`
(ingest/walk.py `Parts`), services take the parts they name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tianwang.config import Settings
from tianwang.events import Hasher
from tianwang.ingest.idempotency import Ledger
from tianwang.interventions.worker import Recorder
from tianwang.live import checkpoint
from tianwang.live.memory import Live
from tianwang.live.policies import PolicyBook
from tianwang.metrics import Metrics
from tianwang.tenants.service import Directory

log = logging.getLogger("tianwang")


@dataclass(eq=False)
class Platform:
    settings: Settings
    db: Any  # the records (SQLAlchemy engine)
    hasher: Hasher  # PII → keyed hashes
    timezone: ZoneInfo
    metrics: Metrics
    live: Live  # every tenant's in-memory state and its lock
    policies: PolicyBook  # each tenant's live bundle
    tenants: Directory  # tenants by key and id
    ledger: Ledger  # idempotency: stored, in flight, settled
    recorder: Recorder | None = None  # intervention results: recorded and acted on
    writer: Any = None  # the group-commit writer (ScratchWriter in a backtest)
    cube: Any = None  # the monitoring cube, read by GET /v1/monitor/cube
    feed: Any = None  # what the writer hands committed decisions to: the cube, or the decided stream
    workers: Any = None  # app/workers.py: the background threads and deliveries
    console_key: bytes = b""
    customer_key: bytes = b""  # signs the customer tokens a beacon speaks for a customer with
    demo_key: str | None = None  # the demo tenant's API key, when it was made by this start
    folder_lock: Any = None  # the embedded data folder, held for this process alone (app/keys.py)
    scratch: bool = False  # a backtest: nothing stored, no checkpoint
    log: logging.Logger = field(default=log)

    @property
    def shared(self) -> bool:
        """Server mode: the window state is shared with other replicas (Redis)."""
        return self.live.shared

    @property
    def stream_url(self) -> str | None:
        """Server mode: the Redis of the decided stream and the monitoring cube."""
        return self.settings.stream or self.settings.state

    def checkpoint(self) -> None:
        """Write the window state and the networks as of the last committed event (live/checkpoint.py)."""
        checkpoint.save(self.live, data_dir=self.settings.data_dir, last_seq=lambda: self.ledger.last_seq)

    def close(self) -> None:
        """Stop the background work, drain the writer, checkpoint, let go of the database."""
        if self.workers is not None:
            self.workers.stop()
        self.writer.close()
        if self.feed is not None:
            self.feed.flush()
        self.checkpoint()
        if self.workers is not None:
            self.workers.join()
        self.db.dispose()
        if self.folder_lock is not None:
            self.folder_lock.close()  # the lock goes with the file
            self.folder_lock = None
        if not self.scratch:
            log.info("stopped: every accepted event stored (last seq %d)", self.ledger.last_seq)
