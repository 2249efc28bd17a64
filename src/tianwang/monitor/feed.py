"""The decided stream: every stored decision carried from the writer to the monitoring cube.

Owns how a committed decision reaches the cube. The group-commit writer calls `committed`
with each batch's decision rows once the batch is committed and before any of its requests
is answered, so an answered decision has been handed on.

- Embedded (`LocalFeed`): the rows go straight into the cube in process memory; the cube is
  refilled from the records when the process starts (`refill`).
- Server mode (`DecidedStream`): every replica appends one entry per decision to the Redis
  Stream `<ns>:decided` (one pipelined round trip per batch). The workers read it in the
  consumer group `cube` (`CubeConsumer`): each entry goes to one of them, which counts it and
  acknowledges it. Delivery is at least once: the entries of a worker that died before its
  acknowledgement are claimed by another after `claim_s`; and a replica killed between its
  commit and its append never answered, so the client's retry of the event (answered from the
  record) appends it again, with the replica's next committed batch (or within 0.2 s, by the
  change-log follower). The cube counts each event id once (monitor/cube.py), so
  at-least-once is effectively once. A batch that cannot be appended (Redis away) is kept and
  sent with the next one.

Why a consumer group here and not for the change log (live/changes.py): every replica must
apply every change, in one order (a fan-out); a decision must be counted by one worker
(shared work, with acknowledgements and redelivery).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import redis

from tianwang.timefmt import to_ms
from tianwang.delivery.rounds import Rounds
from tianwang.monitor.cube import Fact, MemoryCube, fact
from tianwang.monitor.redis_cube import CubeLost, RedisCube
from tianwang.state.base import StateError
from tianwang.state.redis import split_url
from tianwang.store import decisions as decision_repo

log = logging.getLogger("tianwang.monitor")
GROUP = b"cube"
MAXLEN = 1_000_000  # entries kept (about): far more than a worker is ever behind


def record_facts(engine: Any, retention_s: float) -> Callable[[], Iterator[list[Fact]]]:
    """The facts of the decisions stored within the retention, page by page (a cube's refill)."""
    def pages() -> Iterator[list[Fact]]:
        since = datetime.now(timezone.utc) - timedelta(seconds=retention_s)
        for rows in decision_repo.iter_decided_since(engine, since=since):
            yield [fact(r) for r in rows]
    return pages


def repeat_fact(tenant: str, decision: dict[str, Any]) -> Fact:
    """The fact of a stored decision as `POST /v1/events` answers a repeat with it."""
    occurred = datetime.fromisoformat(decision["occurred_at"].replace("Z", "+00:00"))
    return fact({"tenant": tenant, "event_id": decision["event_id"], "scene": decision["scene"],
                 "ts": to_ms(occurred), "outcome": decision["outcome"], "reasons": decision["reasons"],
                 "fallback": decision["fallback"], "latency_us": int(decision["latency_ms"] * 1000)})


class LocalFeed:
    """Embedded: committed decisions are counted in the process's own cube."""

    def __init__(self, cube: MemoryCube):
        self.cube = cube

    def refill(self, records: Callable[[], Iterator[list[Fact]]]) -> int:
        started = time.perf_counter()
        n = sum(self.cube.add(page) for page in records())
        if n:
            log.info("monitoring cube refilled from the records: %d decisions in %.1fs", n, time.perf_counter() - started)
        return n

    def committed(self, rows: list[dict[str, Any]]) -> None:
        self.cube.add(fact(r) for r in rows)

    def repeat(self, tenant: str, decision: dict[str, Any]) -> None:
        pass  # counted when committed, in this very process

    def behind(self) -> dict[str, int | None]:
        return {"entries": 0, "unacknowledged": 0}  # counted before the answer

    def flush(self) -> None:
        pass


class DecidedStream:
    """Server mode: appends each committed decision to `<ns>:decided` (see the module docstring)."""

    def __init__(self, url: str, *, backlog: int = 100_000, socket_timeout: float = 2.0):
        client_url, ns = split_url(url)
        self.r = redis.Redis.from_url(client_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self.key = f"{ns}:decided".encode()
        self._backlog: deque[bytes] = deque(maxlen=backlog)
        self._lock = threading.Lock()
        self._failing = False
        self.round_trips = 0

    def committed(self, rows: list[dict[str, Any]]) -> None:
        self._send([orjson.dumps(fact(r).wire()) for r in rows])

    def repeat(self, tenant: str, decision: dict[str, Any]) -> None:
        """Kept to go with the next committed batch (or `flush`): a repeat is answered under the walk
        lock, which must not wait on the stream."""
        with self._lock:
            self._backlog.append(orjson.dumps(repeat_fact(tenant, decision).wire()))

    def flush(self) -> None:
        """Send what is kept from batches that could not be sent (at shutdown, say)."""
        self._send([])

    def _send(self, bodies: list[bytes]) -> None:
        with self._lock:
            if len(self._backlog) + len(bodies) > (self._backlog.maxlen or 0):
                log.error("decided stream: %d decisions waiting to be appended; the oldest are dropped "
                          "(refill the cube from the records)", len(self._backlog) + len(bodies))
            self._backlog.extend(bodies)
            if not self._backlog:
                return
            sending = list(self._backlog)
            pipe = self.r.pipeline(transaction=False)
            for body in sending:
                pipe.xadd(self.key, {b"f": body}, maxlen=MAXLEN, approximate=True)
            try:
                pipe.execute()
            except redis.RedisError as exc:
                if not self._failing:
                    log.warning("decided stream unreachable (%s); %d decisions kept to send with the next batch",
                                exc, len(sending))
                self._failing = True
                return
            for _ in sending:
                self._backlog.popleft()
            self.round_trips += 1
            self._failing = False

    def behind(self) -> dict[str, int | None]:
        """How far the workers are behind the stream: entries not yet read by the group (`entries`,
        None when Redis is older than 7.0 and does not say) and read but not yet acknowledged."""
        try:
            groups = {g["name"]: g for g in self.r.xinfo_groups(self.key)}
        except redis.ResponseError:  # no stream yet: nothing appended, nothing behind
            return {"entries": 0, "unacknowledged": 0}
        except redis.RedisError as exc:
            raise StateError(f"decided stream unreachable: {exc}") from exc
        group = groups.get(GROUP)
        if group is None:  # no worker has read it yet: every entry is behind
            return {"entries": self.r.xlen(self.key), "unacknowledged": 0}
        return {"entries": group.get("lag"), "unacknowledged": group["pending"]}

    def ping(self) -> None:
        try:
            self.r.ping()
        except redis.RedisError as exc:
            raise StateError(f"decided stream unreachable: {exc}") from exc


class CubeConsumer(Rounds):
    """A worker's reader of `<ns>:decided` in the consumer group `cube`: count, then acknowledge."""

    thread_name = "tianwang-cube"
    poll_s = 0.0  # each round waits in XREADGROUP (block_ms) instead
    backoff_s = 1.0

    def __init__(self, url: str, cube: RedisCube, records: Callable[[], Iterator[list[Fact]]], *,
                 claim_s: float = 30.0, count: int = 500, block_ms: int = 1000, name: str | None = None,
                 socket_timeout: float = 5.0):
        super().__init__()
        client_url, ns = split_url(url)
        self.r = redis.Redis.from_url(client_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self.key = f"{ns}:decided".encode()
        self.cube, self.records = cube, records
        self.claim_s, self.count, self.block_ms = claim_s, count, block_ms
        self.name = (name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}").encode()
        self._claimed_at = 0.0
        self._ready = False
        self.counted = 0  # facts new to the cube
        self.acknowledged = 0  # entries
        # Tests stop a consumer between its count and its acknowledgement, as a kill would.
        self.before_ack: Callable[[list[bytes]], None] | None = None

    def run_once(self) -> int:
        """One batch: entries other consumers left unacknowledged for `claim_s`, else new ones."""
        if not self._ready:  # a cube never filled (a new deployment, Redis restarted empty): from the records first
            if not self.cube.holds_records():
                self.cube.rebuild(self.records)
            self._ready = True
        entries = self._claim()
        if not entries:
            entries = self._read()
        if not entries:
            return 0
        ids = [entry_id for entry_id, _ in entries]
        facts = []
        for entry_id, body in entries:
            if not body:
                continue
            try:
                facts.append(Fact.from_wire(orjson.loads(body[b"f"])))
            except Exception:  # noqa: BLE001 — a malformed entry is acknowledged, never retried forever
                log.error("decided stream entry %s is malformed; skipped", entry_id)
        self.counted += self._count(facts)
        if self.before_ack is not None:
            self.before_ack(ids)
        self.r.xack(self.key, GROUP, *ids)
        self.acknowledged += len(ids)
        return len(ids)

    def _count(self, facts: list[Fact]) -> int:
        try:
            return self.cube.add(facts)
        except CubeLost:
            self.cube.rebuild(self.records)
            return self.cube.add(facts)

    def _group(self) -> None:
        try:
            self.r.xgroup_create(self.key, GROUP, id=b"0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _read(self) -> list:
        try:
            got = self.r.xreadgroup(GROUP, self.name, {self.key: b">"}, count=self.count, block=self.block_ms)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group()  # first start, or Redis restarted empty
            return []
        return got[0][1] if got else []

    def _claim(self) -> list:
        """Entries delivered to a consumer that has not acknowledged them for `claim_s` (it died)."""
        now = time.monotonic()
        if now - self._claimed_at < min(self.claim_s / 2, 5.0):
            return []
        self._claimed_at = now
        try:
            _next, entries, *_ = self.r.xautoclaim(self.key, GROUP, self.name, int(self.claim_s * 1000),
                                                   start_id=b"0-0", count=self.count)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._group()
            return []
        if entries:
            self._claimed_at = 0.0  # more may wait: claim again next round
            log.info("cube consumer %s claimed %d entries another consumer left unacknowledged",
                     self.name.decode(), len(entries))
        return entries  # an entry trimmed from the stream meanwhile comes without a body: acknowledged, skipped
