"""The shared window state of server mode: every series in Redis, one round trip to read, one to append.

Owns the Redis layout of the window series, and nothing else of Redis. A series (tenant,
stream id, key) is one sorted set `w:<tenant>:<stream id>:<key json>`; an entry is a member
scored by its ts whose text is `<order:16 hex><token>\\0<payload json>`. `order` is the
writer's nanosecond clock, so entries of equal ts sort in the order they were walked, which is
what the in-memory series keeps too. A window query fetches each series' entries of
(t - longest, t] — all of an event's series in one pipeline — and answers the ops with the very
`Series` code the memory backend runs, so both backends give the same values by construction
(tests/state/test_redis_state.py runs random histories through both). The walk sends the read
with its change-log round trip (`prefetch`, live/changes.py), so a decision costs Redis two
round trips: that one, and the append.

Appends are idempotent. A walk cut short after its append (a replica killed before its
commit) leaves *ghost* entries; the retry of the event, wherever it walks, reads past them
(`query(..., token=)`) and its append replaces them (the Lua script drops any member of the
same token at the same ts first), so an event is never counted twice. Eviction follows the
memory backend: each append cuts what is older than the writer's watermark less the
lateness and the stream's horizon, and a key nobody appends to expires after the same time.

Sizing and exactness: sorted sets keep every entry, which is exact for every op; the cost is
measured per customer in bench/scale.py.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import redis

from tianwang.state.base import Append, StateError, Stats, WindowQuery
from tianwang.state.memory import DEFAULT_LATENESS_MS, DEFAULT_WATERMARK_EVENTS, Watermark
from tianwang.state.series import Series

# One event's entries, all its series in one call. KEYS: the series. ARGV: ts, token mark
# (token + NUL), then per key: member ('' to only drop the token's entries), cut ('' none), ttl ms.
# On Redis Cluster the keys of one call must share a slot: there the call would be split per key
# (not built; docs/cluster.md).
_APPEND = """
local ts = ARGV[1]
local mark = ARGV[2]
local n = #mark
local removed = 0
for i, key in ipairs(KEYS) do
  local member, cut, ttl = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, ts, ts)) do
    if string.sub(m, 17, 16 + n) == mark then
      redis.call('ZREM', key, m)
      removed = removed + 1
    end
  end
  if member ~= '' then
    redis.call('ZADD', key, ts, member)
    if cut ~= '' then redis.call('ZREMRANGEBYSCORE', key, '-inf', cut) end
    redis.call('PEXPIRE', key, ttl)
  end
end
return removed
"""



# Every series of one event's windows in one call. KEYS: the marker, then the series. ARGV: t, then
# per series the exclusive lower bound. Returns: marker present (0/1), then per series a flat array
# member, score, member, score … of its entries in (lower, t].
_READ = """
local out = {redis.call('EXISTS', KEYS[1])}
for i = 2, #KEYS do
  out[i] = redis.call('ZRANGEBYSCORE', KEYS[i], '(' .. ARGV[i], ARGV[1], 'WITHSCORES')
end
return out
"""


class StateLost(StateError):
    """Redis no longer holds the state (restarted empty, flushed): rebuild it from the log."""


class RedisState:
    """Window series in Redis (see state/base.py for the interface, the module docstring for the layout)."""

    def __init__(self, url: str, *, lateness_ms: int = DEFAULT_LATENESS_MS,
                 watermark_events: int = DEFAULT_WATERMARK_EVENTS, socket_timeout: float = 2.0):
        self.url = url
        url, namespace = split_url(url)
        self.ns = namespace.encode()
        # set once the state holds the whole log; gone when Redis lost its data
        self.marker = self.ns + b":epoch"
        self.lateness_ms = lateness_ms
        self.watermark_events = watermark_events
        self.r = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        # the scripts' digests: loaded on first use (and after a restart)
        self._sha = hashlib.sha1(_APPEND.encode()).hexdigest()
        self._read_sha = hashlib.sha1(_READ.encode()).hexdigest()
        self._clocks: dict[str, Watermark] = {}
        self._order = 0
        self._bulk: Any = None  # a pipeline collecting appends (rebuilds), flushed every `_bulk_every`
        self._bulk_n = 0
        self._bulk_every = 500
        self.round_trips = 0  # pipelines sent: what bench/scale.py reports per event
        # The entries one event's windows read, fetched ahead in another round trip (`prefetch`):
        # (tenant, t, token) → (marker present, (stream id, key) → (lower bound, flat entries)).
        self._primed: tuple | None = None

    # ------------------------------------------------------------------ keys and members

    def key(self, tenant: str, stream_id: str, key: tuple) -> bytes:
        return b"%s:w:%s:%s:%s" % (self.ns, tenant.encode(), stream_id.encode(), orjson.dumps(key))

    def _next_order(self) -> int:
        now = time.time_ns()
        self._order = now if now > self._order else self._order + 1
        return self._order

    # ------------------------------------------------------------------ reads

    def query(self, tenant: str, t: int, requests: Sequence[tuple[str, tuple, WindowQuery]], *,
              token: str | None = None) -> list[Sequence[Any]]:
        """Every request's ops over (t - W, t], in one round trip; entries of `token` (ghosts of
        an earlier, unfinished walk of this very event) are not the past and are skipped."""
        primed = self._primed
        if primed is not None and primed[0] == (tenant, t, token):
            present, fetched = primed[1], primed[2]
            got = [fetched.get((sid, key)) for sid, key, _ in requests]
            if all(g is not None and g[0] <= t - q.longest for g, (_, _, q) in zip(got, requests)):
                flats = [g[1] for g in got]  # all fetched ahead, with the change log: no round trip
            else:
                present, flats = self._read(tenant, t, requests)
        else:
            present, flats = self._read(tenant, t, requests)
        if not present:
            raise StateLost("Redis holds no window state (restarted empty or flushed): rebuild from the log")
        mark = None if token is None else token.encode() + b"\0"
        out = []
        for (stream_id, key, q), flat in zip(requests, flats):
            if not flat:
                out.append(q.empty)
                continue
            out.append(_series(flat, q.longest, mark).query(t, q))
        return out

    def _read_args(self, tenant: str, t: int, requests: Sequence[tuple[str, tuple, WindowQuery]]) -> tuple[list, list]:
        keys = [self.marker]
        args = [t]  # ARGV[i] is the lower bound of KEYS[i], i >= 2
        for stream_id, key, q in requests:
            keys.append(self.key(tenant, stream_id, key))
            args.append(t - q.longest)
        return keys, args

    def _read(self, tenant: str, t: int, requests) -> tuple[bool, list]:
        keys, args = self._read_args(tenant, t, requests)
        replies = self._call(self._read_sha, _READ, keys, args)
        return bool(replies[0]), replies[1:]

    def prefetch(self, tenant: str, t: int, token: str | None,
                 requests: Sequence[tuple[str, tuple, WindowQuery]]) -> tuple[Callable, Callable]:
        """Read one event's windows in a pipeline of another client of this Redis (the change
        log's, so the link and the windows are one round trip): `add(pipe)` queues the read,
        `prime(reply)` keeps what came back for the event's `query` calls. A reply that is an
        error (the script not loaded yet, after a restart) primes nothing: `query` reads itself."""
        lowest: dict[tuple, int] = {}
        for sid, key, q in requests:
            lower = t - q.longest
            if lowest.get((sid, key), lower + 1) > lower:
                lowest[(sid, key)] = lower
        series = list(lowest)
        keys = [self.marker, *(self.key(tenant, sid, key) for sid, key in series)]
        args = [t, *lowest.values()]

        def add(pipe) -> None:
            pipe.evalsha(self._read_sha, len(keys), *keys, *args)

        def prime(reply) -> None:
            if isinstance(reply, Exception):
                self._primed = None
                return
            fetched = {sk: (lowest[sk], flat) for sk, flat in zip(series, reply[1:])}
            self._primed = ((tenant, t, token), bool(reply[0]), fetched)

        return add, prime

    # ------------------------------------------------------------------ writes

    def append(self, tenant: str, ts: int, token: str, items: Sequence[Append]) -> None:
        self._primed = None  # what was fetched ahead is the state before this append
        clock = self._clocks.get(tenant)
        if clock is None:
            clock = self._clocks[tenant] = Watermark(self.watermark_events)
        safe = clock.add(ts) - self.lateness_ms
        mark = token.encode() + b"\0"
        head = b"%016x" % self._next_order() + mark
        keys, args = [], [ts, mark]
        for stream_id, key, payload, horizon in items:
            keys.append(self.key(tenant, stream_id, key))
            # a quiet key outlives every window it is in, then expires
            args += (head + orjson.dumps(payload) if payload else head, safe - horizon, horizon + self.lateness_ms + 86_400_000)
        if self._bulk is not None:
            self._bulk.evalsha(self._sha, len(keys), *keys, *args)
            self._bulk_n += 1
            if self._bulk_n >= self._bulk_every:
                self._flush_bulk()
            return
        self._call(self._sha, _APPEND, keys, args)

    def remove(self, tenant: str, ts: int, token: str, items: Sequence[tuple[str, tuple]]) -> int:
        self._primed = None
        mark = token.encode() + b"\0"
        keys, args = [], [ts, mark]
        for stream_id, key in items:
            keys.append(self.key(tenant, stream_id, key))
            args += (b"", b"", 0)
        return self._call(self._sha, _APPEND, keys, args)

    def _call(self, sha: str, script: str, keys: list, args: list) -> Any:
        """One call of a script, one round trip (loaded again if Redis restarted and forgot it)."""
        try:
            try:
                out = self.r.evalsha(sha, len(keys), *keys, *args)
            except redis.exceptions.NoScriptError:
                self.r.script_load(script)
                out = self.r.evalsha(sha, len(keys), *keys, *args)
        except redis.RedisError as exc:
            raise StateError(f"window state unreachable: {exc}") from exc
        self.round_trips += 1
        return out

    def _execute(self, pipe) -> list:
        try:
            replies = pipe.execute()
        except redis.RedisError as exc:
            raise StateError(f"window state unreachable: {exc}") from exc
        self.round_trips += 1
        return replies

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Appends inside are sent a few hundred events to a round trip (rebuilds, backfills)."""
        self._bulk, self._bulk_n = self.r.pipeline(transaction=False), 0
        try:
            yield
            self._flush_bulk()
        finally:
            self._bulk = None

    def _flush_bulk(self) -> None:
        if self._bulk_n:
            try:
                self.r.script_load(_APPEND)
            except redis.RedisError as exc:
                raise StateError(f"window state unreachable: {exc}") from exc
            self._execute(self._bulk)
            self._bulk_n = 0

    # ------------------------------------------------------------------ whole state

    def holds_log(self) -> bool:
        """Whether Redis holds the state rebuilt from the whole log (the marker is there)."""
        try:
            return bool(self.r.exists(self.marker))
        except redis.RedisError as exc:
            raise StateError(f"window state unreachable: {exc}") from exc

    def mark_complete(self) -> None:
        self.r.set(self.marker, str(time.time_ns()))

    def clear(self) -> int:
        """Delete every series and the marker (before a rebuild); the number of keys deleted."""
        n = 0
        for batch in _chunks(self.r.scan_iter(match=self.ns + b":w:*", count=1000), 1000):
            n += self.r.unlink(*batch)
        return n + self.r.unlink(self.marker)

    def ping(self) -> None:
        self.r.ping()

    def stream_ids(self) -> set[str]:
        skip = len(self.ns) + 3
        return {k[skip:].split(b":", 2)[1].decode() for k in self.r.scan_iter(match=self.ns + b":w:*", count=1000)}

    def drop_stream(self, stream_id: str) -> int:
        n = 0
        for batch in _chunks(self.r.scan_iter(match=b"%s:w:*:%s:*" % (self.ns, stream_id.encode()), count=1000), 1000):
            n += self.r.unlink(*batch)
        return n

    def stats(self) -> Stats:
        info = self.r.info("memory")
        return Stats(self.r.dbsize(), -1, int(info.get("used_memory", 0)))  # keys of the database, not a scan



def _series(flat: list[bytes], horizon: int, ghost: bytes | None) -> Series:
    """One fetched series (member, score, member, score …) as an in-memory `Series`, in ts order
    then walk order, without the entries of `ghost` (token + NUL)."""
    s = None
    for j in range(0, len(flat), 2):
        m = flat[j]
        cut = m.index(b"\0", 16)
        if ghost is not None and m[16:cut + 1] == ghost:
            continue
        rest = m[cut + 1:]
        payload = tuple(orjson.loads(rest)) if rest else ()
        if s is None:
            s = Series(len(payload), horizon)
        s.append(int(flat[j + 1]), m[16:cut].decode(), payload)
    return s if s is not None else Series(0, horizon)


def split_url(url: str) -> tuple[str, str]:
    """`redis://host:port/db?namespace=tw` → (the URL for the client, the key prefix: `tw` unless given).
    Several deployments (or test runs) can share one Redis under different namespaces."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise StateError(f"state URL {url!r}: expected redis://host:port/db (or rediss://, unix://)")
    query = parse_qsl(parts.query, keep_blank_values=True)
    ns = next((v for k, v in query if k == "namespace"), "tw")
    if not ns or not all(c.isalnum() or c in "_-." for c in ns):
        raise StateError(f"state URL {url!r}: namespace must be letters, digits, '_', '-' or '.'")
    rest = urlencode([(k, v) for k, v in query if k != "namespace"])
    return urlunsplit(parts._replace(query=rest)), ns


def _chunks(it, n: int):
    batch = []
    for x in it:
        batch.append(x)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch
