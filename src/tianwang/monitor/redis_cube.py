"""The monitoring cube in Redis (server mode): written by the workers' consumers, read by every replica.

Owns the cube's Redis layout. A cell is one hash `<ns>:cube:<tenant>:<minute>` of the fields
`monitor/cube.py` names, beside a set `…:<minute>:ids` of the event ids it counted, and
`<ns>:cube:<tenant>:newest` holds the tenant's latest minute, and `<ns>:cube:<tenant>:minutes`
indexes the minutes written within the retention (scored by the time of their last write). One script call adds a batch
of facts: a fact whose id is already in its minute's set is skipped, so a redelivered entry,
or one counted again by a rebuild, is counted once (the stream's at-least-once made
effectively-once by the idempotency key). Cells expire `retention_s` after their last write.

The marker `<ns>:cube:epoch` is set once the cube holds the records; a Redis restarted empty
has lost it, and the add script then refuses (`CubeLost`): the consumer that sees it refills
the cube from the records (`rebuild`) under a lock, while the others wait for the marker.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator

import redis

from tianwang.monitor.cube import Fact
from tianwang.state.base import StateError
from tianwang.state.redis import split_url

log = logging.getLogger("tianwang.monitor")

# KEYS: the marker, then per fact: its cell, its ids set, its tenant's newest key, its tenant's index of
# minutes. ARGV: ttl ms, now (unix ms), then per fact: event id, minute, the number of fields n, then n
# pairs field, increment. Returns the number of facts counted, or -1 when the marker is gone.
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local ttl, now = ARGV[1], tonumber(ARGV[2])
local a = 3
local added = 0
for i = 2, #KEYS, 4 do
  local id, minute, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  if redis.call('SADD', KEYS[i + 1], id) == 1 then
    for j = 1, n do
      redis.call('HINCRBY', KEYS[i], ARGV[a + 1 + 2 * j], ARGV[a + 2 + 2 * j])
    end
    redis.call('PEXPIRE', KEYS[i], ttl)
    redis.call('PEXPIRE', KEYS[i + 1], ttl)
    local newest = tonumber(redis.call('GET', KEYS[i + 2]) or '-1')
    if tonumber(minute) > newest then redis.call('SET', KEYS[i + 2], minute) end
    redis.call('ZADD', KEYS[i + 3], now, minute)
    redis.call('ZREMRANGEBYSCORE', KEYS[i + 3], '-inf', '(' .. (now - ttl))
    redis.call('PEXPIRE', KEYS[i + 3], ttl)
    added = added + 1
  end
  a = a + 3 + 2 * n
end
return added
"""


class CubeLost(StateError):
    """Redis no longer holds the cube (restarted empty, flushed): refill it from the records."""


class RedisCube:
    def __init__(self, url: str, *, retention_s: float = 48 * 3600, socket_timeout: float = 2.0):
        client_url, ns = split_url(url)
        self.r = redis.Redis.from_url(client_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self.prefix = f"{ns}:cube:".encode()
        self.marker = self.prefix + b"epoch"
        self.retention_s = retention_s
        self._sha = hashlib.sha1(_ADD.encode()).hexdigest()

    def _cell(self, tenant: str, minute: int) -> bytes:
        return b"%s%s:%d" % (self.prefix, tenant.encode(), minute)

    def add(self, facts: Iterable[Fact]) -> int:
        """Count each fact not counted before, in one script call; how many were new. CubeLost when
        Redis has lost the cube (nothing is counted then)."""
        keys: list[bytes] = [self.marker]
        args: list = [int(self.retention_s * 1000), int(time.time() * 1000)]
        for f in facts:
            cell = self._cell(f.tenant, f.minute)
            keys += [cell, cell + b":ids", self._tenant_key(f.tenant, b"newest"), self._tenant_key(f.tenant, b"minutes")]
            args += [f.event_id, f.minute, len(f.fields)]
            for name, inc in f.fields:
                args += [name, inc]
        if len(keys) == 1:
            return 0
        try:
            try:
                added = self.r.evalsha(self._sha, len(keys), *keys, *args)
            except redis.exceptions.NoScriptError:
                added = self.r.eval(_ADD, len(keys), *keys, *args)
        except redis.RedisError as exc:
            raise StateError(f"monitoring cube unreachable: {exc}") from exc
        if added == -1:
            raise CubeLost("Redis holds no monitoring cube (restarted empty or flushed): refill it from the records")
        return int(added)

    def _tenant_key(self, tenant: str, what: bytes) -> bytes:
        return b"%s%s:%s" % (self.prefix, tenant.encode(), what)

    def cells(self, tenant: str, first: int, last: int) -> dict[int, dict[str, int]]:
        """minute → fields, for the tenant's minutes in [first, last] that hold anything: the index of
        the minutes written within the retention says which, so a read costs what the cube holds, not
        what the period spans (two round trips)."""
        try:
            held = self.r.zrangebyscore(self._tenant_key(tenant, b"minutes"),
                                        int((time.time() - self.retention_s) * 1000), "+inf")
        except redis.RedisError as exc:
            raise StateError(f"monitoring cube unreachable: {exc}") from exc
        minutes = sorted(m for m in map(int, held) if first <= m <= last)
        pipe = self.r.pipeline(transaction=False)
        for m in minutes:
            pipe.hgetall(self._cell(tenant, m))
        try:
            replies = pipe.execute()
        except redis.RedisError as exc:
            raise StateError(f"monitoring cube unreachable: {exc}") from exc
        return {m: {k.decode(): int(v) for k, v in got.items()} for m, got in zip(minutes, replies) if got}

    def newest(self, tenant: str) -> int | None:
        try:
            got = self.r.get(self._tenant_key(tenant, b"newest"))
        except redis.RedisError as exc:
            raise StateError(f"monitoring cube unreachable: {exc}") from exc
        return None if got is None else int(got)

    def holds_records(self) -> bool:
        return bool(self.r.exists(self.marker))

    def rebuild(self, records: Callable[[], Iterator[list[Fact]]], *, lock_s: float = 600) -> bool:
        """Refill the cube from the records, once for all consumers: the one holding the lock clears
        and refills (True); another waits until the marker is back (False). Stream entries counted
        meanwhile are not counted twice: the refill skips the ids they added."""
        lock = self.prefix + b"rebuild"
        if not self.r.set(lock, b"1", nx=True, px=int(lock_s * 1000)):
            deadline = time.monotonic() + lock_s
            while not self.holds_records() and time.monotonic() < deadline:
                time.sleep(0.2)
            return False
        try:
            started = time.perf_counter()
            stale = [k for k in self.r.scan_iter(match=self.prefix + b"*", count=1000) if k != lock]
            for i in range(0, len(stale), 1000):
                self.r.unlink(*stale[i:i + 1000])
            self.r.set(self.marker, str(time.time_ns()))
            n = sum(self.add(chunk) for chunk in records())
            log.info("monitoring cube refilled from the records: %d decisions in %.1fs", n, time.perf_counter() - started)
            return True
        finally:
            self.r.delete(lock)

