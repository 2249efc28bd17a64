"""The write path of the event walk: group commit of events and their decisions.

One daemon thread owns the writes. `submit` queues an (event, decision) pair and returns a
Future; the thread takes everything queued (up to `max_batch`), inserts it in ONE transaction in
submission order, commits, and only then resolves each Future with its event's `seq`. So an
answered event is durable, many requests share one fsync, and `events.seq` order is submission
order.

An event may carry **effects**: callables given the transaction's connection, run after the
batch's inserts, in submission order — the holds, outbox rows and audit records its walk
produced (ingest/walk.py step 7: holds/, cases/, interventions/), committed exactly when the event is. An effect must not fail
on a repeat (its inserts ignore conflicts).

Failures stay local: a duplicate (tenant, event_id) fails only its own Future (`DuplicateEvent`);
a row the database refuses fails only itself; a database that cannot be reached fails the
whole batch with `StoreUnavailable`, and the next batch tries again.

`on_commit` is given each committed batch's decision rows before any of its Futures is
resolved, so whatever it hands them to (the monitoring cube's feed, monitor/feed.py) has
them before a request is answered.

Listeners (`add_listener`) hear of each batch once, after every Future in it is resolved: a
caller waiting for hundreds of events is woken once per batch instead of once per event
(one Future callback per event means one thread hand-off, and on an event loop one self-pipe
write, per event).

`ScratchWriter` has the same interface and stores nothing: the writer of a scratch platform
(a backtest), whose records nobody reads.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tianwang.errors import Conflict, StoreUnavailable
from tianwang.store.schema import decisions, events, utcnow

log = logging.getLogger(__name__)

_EVENT_COLS = tuple(c.name for c in events.c if c.name != "seq")
_DECISION_COLS = tuple(c.name for c in decisions.c if c.name != "seq")
_EVENT_COL_SET, _DECISION_COL_SET = frozenset(_EVENT_COLS), frozenset(_DECISION_COLS)
_SHARED = ("tenant", "event_id", "scene", "customer_id", "ts")
_DECISION_DEFAULTS = {"reasons": list, "interventions": list, "values": dict, "latency_us": int}

# A listener gets the ((tenant, event_id), Future) pairs of one batch, every Future resolved.
BatchListener = Callable[[list[tuple[tuple[str, str], Future]]], None]


class DuplicateEvent(Conflict):
    """An event with this (tenant, event_id) is already stored; nothing was written."""

    code = "duplicate_event"

    def __init__(self, tenant: str, event_id: str):
        self.tenant = tenant
        self.event_id = event_id
        super().__init__(f"event {event_id!r} of tenant {tenant!r} is already stored")


# An effect runs inside the batch's transaction, after the inserts.
Effect = Callable[[Any], None]


@dataclass(slots=True)
class _Item:
    event: dict[str, Any]
    decision: dict[str, Any] | None
    effects: tuple[Effect, ...] = ()
    future: Future = field(default_factory=Future)

    @property
    def key(self) -> tuple[str, str]:
        return self.event["tenant"], self.event["event_id"]


class GroupCommitWriter:
    """Batches event+decision inserts from many callers into few transactions (group commit)."""

    def __init__(self, engine: Engine, *, max_batch: int = 500,
                 on_commit: Callable[[list[dict[str, Any]]], None] | None = None):
        self._engine = engine
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: deque[_Item] = deque()
        self._submitted = 0
        self._processed = 0
        self._closed = False
        self._listeners: tuple[BatchListener, ...] = ()
        self._sqlite = _SqliteBatch(engine.dialect) if engine.dialect.name == "sqlite" else None
        self._thread = threading.Thread(target=self._run, name="tianwang-writer", daemon=True)
        self._thread.start()

    def submit(self, event_row: dict[str, Any], decision_row: dict[str, Any] | None,
               effects: tuple[Effect, ...] | list[Effect] = ()) -> Future:
        """Queue one event, its decision and its effects; the Future gives the event's seq once committed."""
        item = _Item(_event_row(event_row), _decision_row(decision_row, event_row), tuple(effects))
        with self._cond:
            closed = self._closed
            if not closed:
                self._queue.append(item)
                self._submitted += 1
                self._cond.notify_all()
        if closed:
            item.future.set_exception(StoreUnavailable("the event writer is closed"))
            self._tell([item])
        return item.future

    def add_listener(self, listener: BatchListener) -> None:
        """Call `listener` from the writer thread after each batch (committed or failed).

        It runs before `flush` returns for that batch; it must be quick and must not wait
        for anything the writer thread itself has to do. A submit refused because the
        writer is closed is told from the submitting thread, as a batch of one.
        """
        with self._cond:
            self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: BatchListener) -> None:
        with self._cond:
            self._listeners = tuple(fn for fn in self._listeners if fn is not listener)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is committed (or failed); False on timeout."""
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(lambda: self._processed >= target, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the thread; later submits fail with StoreUnavailable."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def __enter__(self) -> GroupCommitWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                n = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(n)]
            try:
                # A Future cancelled while queued is dropped: nobody waits for its answer.
                self._write([it for it in batch if it.future.set_running_or_notify_cancel()])
            except BaseException as exc:  # the thread must outlive any surprise
                log.exception("event writer batch failed")
                _fail(batch, f"event writer failed: {_why(exc)}", exc)
            finally:
                self._tell(batch)
                with self._cond:
                    self._processed += len(batch)
                    self._cond.notify_all()

    def _tell(self, batch: list[_Item]) -> None:
        listeners = self._listeners  # a tuple replaced whole on change: safe to read unlocked
        if not listeners:
            return
        done = [(item.key, item.future) for item in batch]
        for listener in listeners:
            try:
                listener(done)
            except Exception:  # a listener's bug must not stop the writer or its other listeners
                log.exception("event writer listener failed")

    def _write(self, items: list[_Item]) -> None:
        if not items or self._try_commit(items):
            return
        items = self._without_duplicates(items)
        if items is None or not items or self._try_commit(items):
            return
        for i, item in enumerate(items):  # some row is refused: find it, commit the others
            try:
                self._commit([item])
            except Exception as exc:
                if _unavailable(exc):
                    _fail(items[i:], f"records database unavailable: {_why(exc)}", exc)
                    return
                if self._stored_keys([item]):
                    item.future.set_exception(DuplicateEvent(*item.key))
                else:
                    _fail([item], f"records database refused the event: {_why(exc)}", exc)

    def _try_commit(self, items: list[_Item]) -> bool:
        """Commit the batch; False when some row was refused (retry smaller), True otherwise."""
        try:
            self._commit(items)
            return True
        except Exception as exc:
            if _unavailable(exc):
                _fail(items, f"records database unavailable: {_why(exc)}", exc)
                return True
            return False

    def _commit(self, items: list[_Item]) -> None:
        rows = [it.decision for it in items if it.decision is not None]
        with self._engine.begin() as conn:
            if self._sqlite is not None:
                seqs = self._sqlite.insert(conn, [it.event for it in items], rows)
            else:
                stmt = events.insert().returning(events.c.seq, sort_by_parameter_order=True)
                seqs = conn.execute(stmt, [it.event for it in items]).scalars().all()
                if rows:
                    conn.execute(decisions.insert(), rows)
            for item in items:
                for effect in item.effects:
                    effect(conn)
        if self._on_commit is not None and rows:
            try:
                self._on_commit(rows)
            except Exception:  # committed is committed: a hook's failure must not fail the events
                log.exception("event writer commit hook failed")
        for item, seq in zip(items, seqs, strict=True):
            item.future.set_result(seq)

    def _without_duplicates(self, items: list[_Item]) -> list[_Item] | None:
        """Fail the items whose key is stored or repeated in the batch; None if the db is down."""
        try:
            stored = self._stored_keys(items)
        except Exception as exc:
            _fail(items, f"records database unavailable: {_why(exc)}", exc)
            return None
        seen: set[tuple[str, str]] = set()
        kept = []
        for item in items:
            if item.key in stored or item.key in seen:
                item.future.set_exception(DuplicateEvent(*item.key))
            else:
                seen.add(item.key)
                kept.append(item)
        return kept

    def _stored_keys(self, items: list[_Item]) -> set[tuple[str, str]]:
        by_tenant: dict[str, list[str]] = {}
        for item in items:
            by_tenant.setdefault(item.key[0], []).append(item.key[1])
        found: set[tuple[str, str]] = set()
        with self._engine.connect() as conn:
            for tenant, ids in by_tenant.items():
                for table in (events, decisions):
                    query = select(table.c.tenant, table.c.event_id).where(
                        table.c.tenant == tenant, table.c.event_id.in_(ids)
                    )
                    found.update((t, e) for t, e in conn.execute(query))
        return found


class ScratchWriter:
    """The writer of a scratch platform (a backtest): stores nothing and answers at once.

    The same interface as GroupCommitWriter, so the walk is the same code: `submit` resolves
    its Future with the next seq straight away and tells the listeners, as if the event had
    been committed in a batch of one. Of each event it keeps only its body hash, keyed by
    tenant and event_id, so the ledger can still answer a repeat and refuse a different
    body under an id already used; events and decisions themselves go nowhere.
    """

    def __init__(self) -> None:
        self._seq = 0
        self._closed = False
        self._bodies: dict[str, dict[str, bytes]] = {}  # tenant → event_id → sha256 of the body
        self._listeners: tuple[BatchListener, ...] = ()

    def submit(self, event_row: dict[str, Any], decision_row: dict[str, Any] | None,
               effects: tuple[Effect, ...] | list[Effect] = ()) -> Future:
        tenant, event_id = event_row["tenant"], event_row["event_id"]
        future: Future = Future()
        bodies = self._bodies.setdefault(tenant, {})
        if self._closed:
            future.set_exception(StoreUnavailable("the event writer is closed"))
        elif event_id in bodies:
            future.set_exception(DuplicateEvent(tenant, event_id))
        else:
            bodies[event_id] = bytes.fromhex(event_row["body_hash"])  # 65 bytes, not a 113-byte str
            self._seq += 1
            future.set_result(self._seq)
        for listener in self._listeners:
            try:
                listener([((tenant, event_id), future)])
            except Exception:  # as GroupCommitWriter: a listener's bug is logged, not the caller's
                log.exception("event writer listener failed")
        return future

    def body_hash(self, tenant: str, event_id: str) -> str | None:
        """The body hash of an event taken before, or None."""
        digest = self._bodies.get(tenant, {}).get(event_id)
        return None if digest is None else digest.hex()

    def add_listener(self, listener: BatchListener) -> None:
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: BatchListener) -> None:
        self._listeners = tuple(fn for fn in self._listeners if fn is not listener)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        self._closed = True


class _RawInsert:
    """One table's INSERT with SQLAlchemy's own bind processors, run by the driver's executemany.

    The values bound are exactly those SQLAlchemy would bind (the same processors for JSON
    and UTC datetimes); only its per-row statement machinery is skipped — 80 → 25 µs per
    event and decision on SQLite (bench/decide.py).
    """

    def __init__(self, table: Any, dialect: Any):
        cols = [c.name for c in table.c if c.name != "seq"]
        compiled = table.insert().compile(dialect=dialect, column_keys=cols)
        self.sql = str(compiled)
        procs = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.c}
        self.procs = [(key, procs[key]) for key in compiled.positiontup]

    def params(self, rows: list[dict[str, Any]]) -> list[tuple]:
        procs = self.procs
        return [tuple(p(row[k]) if p else row[k] for k, p in procs) for row in rows]


class _SqliteBatch:
    """The SQLite write of a batch: executemany on the raw cursor inside SQLAlchemy's transaction.

    One writer holds the database (BEGIN IMMEDIATE) and the keys are AUTOINCREMENT, so the
    batch's seqs are consecutive and end at last_insert_rowid().
    """

    def __init__(self, dialect: Any):
        self.events = _RawInsert(events, dialect)
        self.decisions = _RawInsert(decisions, dialect)

    def insert(self, conn: Any, event_rows: list[dict], decision_rows: list[dict]) -> list[int]:
        import sqlite3

        from sqlalchemy.exc import DBAPIError

        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(self.events.sql, self.events.params(event_rows))
            last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
            if decision_rows:
                cursor.executemany(self.decisions.sql, self.decisions.params(decision_rows))
        except sqlite3.Error as exc:  # the same exception types the SQLAlchemy path raises
            raise DBAPIError.instance(self.events.sql, None, exc, sqlite3.Error) from exc
        finally:
            cursor.close()
        return list(range(last - len(event_rows) + 1, last + 1))


def _unavailable(exc: BaseException) -> bool:
    """True when the database could not be reached, rather than refusing a row."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _why(exc: BaseException) -> str:
    """A short reason, without the SQL statement or its parameters (they hold customer data)."""
    orig = (exc.orig or exc) if isinstance(exc, StatementError) else exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first}"[:300]


def _fail(items: list[_Item], message: str, cause: BaseException) -> None:
    for item in items:
        if not item.future.done():
            error = StoreUnavailable(message)
            error.__cause__ = cause
            item.future.set_exception(error)


def _event_row(given: dict[str, Any]) -> dict[str, Any]:
    _check_keys("event", given, _EVENT_COL_SET)
    row = {name: given.get(name) for name in _EVENT_COLS}
    if row["received_at"] is None:
        row["received_at"] = utcnow()
    return row


def _decision_row(given: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any] | None:
    if given is None:
        return None
    _check_keys("decision", given, _DECISION_COL_SET)
    row = {name: given.get(name) for name in _DECISION_COLS}
    for name in _SHARED:
        if row[name] is None:
            row[name] = event.get(name)
    if (row["tenant"], row["event_id"]) != (event.get("tenant"), event.get("event_id")):
        raise ValueError("the decision's tenant/event_id differ from its event's")
    for name, make in _DECISION_DEFAULTS.items():
        if row[name] is None:
            row[name] = make()
    if row["decided_at"] is None:
        row["decided_at"] = utcnow()
    return row


def _check_keys(what: str, given: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = given.keys() - allowed
    if unknown:
        raise ValueError(f"unknown {what} column(s): {sorted(unknown)}")
    if what == "event" and not (given.get("tenant") and given.get("event_id")):
        raise ValueError("an event needs a tenant and an event_id")
