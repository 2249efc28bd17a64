"""The change log: how replicas keep the same networks, held events, devices and lists.

Owns the order in which the in-memory state of the domain changes. Windows live in a shared
store (state/); the networks, hold books, device registries and list index live in each
process. In server mode every replica keeps all of them, and every change to them goes
through one Redis Stream (`<namespace>:changes`), which gives the changes one order that
every replica applies them in. So the replicas hold the same state, and an event's network
measures count its own links, as in one process:

- `link(tenant, record)` (the walk's step 4) appends the event's links to the log, reads the
  log up to them in the same round trip, applies everything before them, then them, and
  returns the measures — the same `Network.link` the embedded walk calls.
- `note(tenant, op, *args)`: a change this process already made (a mark, a hold held or
  ended, a ring told of, a device sighting, a list entry), sent with the next `publish()`;
  the walk publishes its notes before it stores the event, an action outside the walk (a
  disposition, a person's answer, the sweeper, a list edit, a policy published) once committed.
- `catch_up()` applies what other replicas logged (before each link; and a few times a second,
  so an idle replica's pages are current).
- A failed commit logs `rebuild`: every replica rebuilds the tenant's network and holds from the
  records.
- Each replica knows every event id it linked (from the records at start or a rebuild, then
  from the log): a link of an id already linked is not applied again — a retry of an event
  whose first walk died on another replica counts once — and a new id, nearly every event,
  is known new without asking the records whether it was stored.

Embedded (`LocalChanges`): a link is `Network.link`, notes go nowhere.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import redis

from tianwang.network.entities import LINK_FIELDS
from tianwang.state.base import StateError
from tianwang.state.redis import split_url



class Live(Protocol):
    """What the change log reads of the live state it keeps equal (live/memory.py's `Live`)."""

    ops: Any
    changes: Any

    def network(self, tenant_id: str) -> Any: ...

    def holds(self, tenant_id: str) -> Any: ...

    def locked(self) -> Any: ...

log = logging.getLogger("tianwang.changes")
MAXLEN = 2_000_000  # entries kept (about): a replica further behind than this restarts from the records


class LocalChanges:
    """One process: nothing to tell anyone."""

    shared = False

    def __init__(self, live: Live):
        self.live = live

    def link(self, tenant: str, record: dict, reads: Any = None, clock: bool = True) -> dict[str, Any]:
        return self.live.network(tenant).link(record)

    def note(self, tenant: str, op: str, *args: Any) -> None:
        pass

    def publish(self) -> None:
        pass

    def discard(self) -> None:
        pass

    def catch_up(self) -> None:
        pass

    def rebuild(self, tenant: str) -> None:
        self.live.ops["rebuild"](tenant)


class SharedChanges:
    """Server mode: the change log in a Redis Stream (see the module docstring)."""

    shared = True

    def __init__(self, live: Live, url: str, *, socket_timeout: float = 2.0,
                 on_round_trip: Callable[[float], None] | None = None):
        """`on_round_trip(seconds)`: told of each link round trip that also read the event's windows."""
        self.live = live
        self.on_round_trip = on_round_trip
        client_url, ns = split_url(url)
        self.r = redis.Redis.from_url(client_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
        self.key = f"{ns}:changes".encode()
        self.me = uuid.uuid4().hex[:12].encode()  # this process, to skip its own notes when reading
        self.last = b"0-0"  # the last entry applied
        self.pending: list[bytes] = []
        self.applying = False
        # tenant → hashes of the ids of every event linked here (from the records or the log)
        self.linked: dict[str, set[int]] = {}
        self.round_trips = 0
        self.blocked = False  # a rebuild could not be applied (records away): nothing is linked until it is
        self.timings: list[float] | None = None  # a list: each link round trip's seconds are added (bench/scale.py)

    # ------------------------------------------------------------------ position

    def end(self) -> bytes:
        """The id of the log's latest entry ("0-0" when empty)."""
        try:
            last = self.r.xrevrange(self.key, count=1)
        except redis.RedisError as exc:
            raise StateError(f"change log unreachable: {exc}") from exc
        return last[0][0] if last else b"0-0"

    def start_at(self, position: bytes, linked: dict[str, set[int]]) -> None:
        """Apply the log from after `position`; `linked`: the hashes of the ids of the events the
        start linked from the records (some may come by the log again: not linked twice)."""
        self.last, self.linked = position, linked

    def maybe_stored(self, tenant: str, event_id: str) -> bool:
        """Whether the event was linked here, so may be stored (a repeat); False: certainly new."""
        return hash(event_id) in self.linked.get(tenant, ())

    # ------------------------------------------------------------------ writing

    def link(self, tenant: str, record: dict, reads: Any = None, clock: bool = True) -> dict[str, Any]:
        """The event's links, applied in the log's order; its customer's measures. `reads`: the
        window state's (add, prime) for the event's windows, read in the same round trip;
        `clock`: whether the event's time moves the tenant's hold clock on every replica."""
        if self.blocked:
            self.catch_up()  # raises while the rebuild still cannot be applied: this event is not logged
        fields = {k: record[k] for k in LINK_FIELDS if record.get(k) is not None}
        if not clock:
            fields["clock"] = False  # an anonymous beacon's event: links, but moves no clock
        body = orjson.dumps(["link", tenant, [fields]])
        pipe = self.r.pipeline(transaction=False)
        pipe.xadd(self.key, {b"o": self.me, b"c": body}, maxlen=MAXLEN, approximate=True)
        pipe.xrange(self.key, min=b"(" + self.last)
        if reads is not None:
            reads[0](pipe)
        started = time.perf_counter()
        try:
            replies = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise StateError(f"change log unreachable: {exc}") from exc
        took = time.perf_counter() - started
        if reads is not None and self.on_round_trip is not None:
            self.on_round_trip(took)
        if self.timings is not None:
            self.timings.append(took)
        self.round_trips += 1
        mine, entries = replies[0], replies[1]
        for reply in (mine, entries):
            if isinstance(reply, Exception):
                raise StateError(f"change log refused the event: {reply}")
        if reads is not None:
            reads[1](replies[2])
        result = self._apply(entries, until=mine)
        if result is None:  # our entry was not among those read (it always is): read on to it
            result = self._catch_up(until=mine)
        return result

    def note(self, tenant: str, op: str, *args: Any) -> None:
        if not self.applying:
            self.pending.append(orjson.dumps([op, tenant, list(args)]))

    def publish(self) -> None:
        if not self.pending:
            return
        pipe = self.r.pipeline(transaction=False)
        for body in self.pending:
            pipe.xadd(self.key, {b"o": self.me, b"c": body}, maxlen=MAXLEN, approximate=True)
        self.pending = []
        self._execute(pipe)

    def discard(self) -> None:
        """Forget the notes not yet published (the walk that made them failed)."""
        self.pending = []

    def rebuild(self, tenant: str) -> None:
        """Every replica (this one too) rebuilds the tenant from the records at this point of the log."""
        self.pending.append(orjson.dumps(["rebuild", tenant, []]))
        self.publish()  # applied here too, by the next catch-up (again and again while the records are away)

    def _execute(self, pipe) -> list:
        try:
            out = pipe.execute()
        except redis.RedisError as exc:
            self.pending = []
            raise StateError(f"change log unreachable: {exc}") from exc
        self.round_trips += 1
        return out

    # ------------------------------------------------------------------ reading

    def catch_up(self) -> None:
        self._catch_up(until=None)

    def _catch_up(self, *, until: bytes | None) -> Any:
        result = None
        while True:
            pipe = self.r.pipeline(transaction=False)
            pipe.xrange(self.key, min=b"(" + self.last, count=10_000)
            (entries,) = self._execute(pipe)
            if not entries:
                return result
            got = self._apply(entries, until=until)
            if until is not None and self.last == until:
                return got
            if len(entries) < 10_000:
                return result

    def _apply(self, entries: list, *, until: bytes | None) -> Any:
        """Apply entries in order, up to and including `until`; the result of `until`'s own change."""
        result = None
        ops = self.live.ops
        for entry_id, body in entries:
            op, tenant, args = orjson.loads(body[b"c"])
            own = body[b"o"] == self.me
            if op == "link" or op == "rebuild" or not own:  # own notes were made here already
                self.applying = True
                try:
                    if op == "link":
                        out = self._apply_link(tenant, *args)
                    elif op == "rebuild":
                        out = self._apply_rebuild(tenant)
                    else:
                        out = ops[op](tenant, *args)
                except Exception:  # noqa: BLE001 — a change that cannot be applied here: say so, go on
                    if op == "rebuild":
                        self.blocked = True
                        raise  # the records are unreachable: stay before it, and try again next time
                    log.exception("change %s %s of tenant %s could not be applied", entry_id, op, tenant)
                    out = None
                finally:
                    self.applying = False
                if entry_id == until:
                    result = out
            self.last = entry_id
            if entry_id == until:
                break
        return result

    def _apply_link(self, tenant: str, fields: dict) -> dict[str, Any] | None:
        linked = self.linked.setdefault(tenant, set())
        h = hash(fields["event_id"])
        if h in linked:  # linked already: a retry of an event whose first walk did not finish
            return self.live.network(tenant).measures(fields["customer_id"], fields["ts"])
        linked.add(h)
        if fields.get("clock", True):
            self.live.holds(tenant).tick(fields["ts"])
        return self.live.network(tenant).link(fields)

    def _apply_rebuild(self, tenant: str) -> None:
        self.linked[tenant] = self.live.ops["rebuild"](tenant)
        self.blocked = False


class Follower:
    """Applies other replicas' changes a few times a second, so an idle replica's pages are current
    (and sends the decided stream what waits for a commit that does not come)."""

    def __init__(self, live: Live, feed: Any = None, every_s: float = 0.2):
        self.live, self.feed, self.every_s = live, feed, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self.every_s):
            try:
                with self.live.locked():
                    self.live.changes.catch_up()
                if self.feed is not None:
                    self.feed.flush()  # repeats kept for the decided stream, on a replica with no commits to carry them
                if failing:
                    log.warning("following the change log again")
                failing = False
            except Exception as exc:  # noqa: BLE001 — Redis or the records away: the next round tries again
                if not failing:  # once a streak, not five times a second
                    log.warning("following the change log failed (%s: %s); retrying", type(exc).__name__, exc)
                failing = True
