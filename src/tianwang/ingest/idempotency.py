"""Idempotency in one place: which (tenant, event_id) are stored, in flight, or settled.

An event is **in flight** from the walk's store step until the writer settles its batch
(`settle`, the writer's listener): a repeat meanwhile is answered with the first walk's
decision. Every stored event is in `seen` (hashes of its (tenant, event_id)), so a new id —
nearly every event — is known new without a database read; a seen one is confirmed against
the record (`stored_decision`). Server mode asks the change log instead, which knows every id
any replica linked. A backtest's scratch writer keeps its own index of body hashes.

A failed commit hands its event to `Live.revert_later` (its window entries out, its network
rebuilt before the next walk) and forgets its id, so a retry walks anew.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from tianwang.ingest.decision import Decision
from tianwang.store import decisions as decision_repo
from tianwang.store import events as event_repo
from tianwang.store.writer import DuplicateEvent

if TYPE_CHECKING:
    from tianwang.live.memory import Live
    from tianwang.policy.bundle import Bundle


@dataclass
class Accepted:
    """A decision on its way to durable storage (or already stored, for a repeat)."""
    decision: dict[str, Any]
    future: Future | None = None

    def wait(self, timeout: float | None = 30) -> dict[str, Any]:
        if self.future is not None:
            self.future.result(timeout)
        return self.decision


def fingerprint(raw: Any) -> str:
    """The body's identity for idempotency: the same keys and values hash alike."""
    return hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class InFlight:
    """An event handed to the writer and not yet settled: what a repeat or a failure needs."""

    tenant: str
    body_hash: str
    accepted: Accepted | None  # set once the writer has taken the event
    record: dict
    bundle: Bundle


class Ledger:
    """The stored, in-flight and settled events of every tenant (see the module docstring)."""

    def __init__(self, live: Live, *, scratch: bool = False) -> None:
        self.live = live
        self.scratch = scratch
        self.writer: Any = None  # set once built: the scratch writer knows its own repeats
        self.inflight: dict[tuple[str, str], InFlight] = {}
        self.seen: set[int] = set()
        self.last_seq = 0  # the highest seq committed (what a checkpoint holds up to)

    def load(self, conn: Any) -> None:
        """The stored ids and the last seq, at start (server mode: the change log knows the ids)."""
        self.last_seq = event_repo.max_seq(conn)
        if not self.live.shared:
            self.seen = {hash(ids) for ids in event_repo.iter_ids(conn)}

    def remember(self, tenant_id: str, event_id: str) -> None:
        if not self.scratch:  # the scratch writer keeps its own index of the ids it took
            self.seen.add(hash((tenant_id, event_id)))

    def forget(self, tenant_id: str, event_id: str) -> None:
        self.seen.discard(hash((tenant_id, event_id)))

    def maybe_stored(self, tenant_id: str, event_id: str) -> bool:
        """Whether the event may be stored (a repeat); False: certainly new."""
        if self.live.changes.shared:  # never linked by any replica: new
            return self.live.changes.maybe_stored(tenant_id, event_id)
        return hash((tenant_id, event_id)) in self.seen

    def stored_decision(self, tenant_id: str, event_id: str) -> tuple[dict, str] | None:
        """The stored decision and body hash of an event, if it was stored before.

        Scratch: no decision was stored, so a repeat gets its identity alone (the backtest
        only counts repeats); its body hash is still checked."""
        if self.scratch:
            body_hash = self.writer.body_hash(tenant_id, event_id)
            return None if body_hash is None else ({"event_id": event_id}, body_hash)
        if not self.maybe_stored(tenant_id, event_id):
            return None
        with self.live.db.connect() as conn:
            event = event_repo.get_event(conn, tenant=tenant_id, event_id=event_id)
            if event is None:
                return None
            row = decision_repo.get_decision(conn, tenant=tenant_id, event_id=event_id)
        return Decision.from_row(row, (event["payload"] or {}).get("placeholders")), event["body_hash"]

    def settle(self, done: list[tuple[tuple[str, str], Future]]) -> None:
        """The writer's listener: one call per batch, on the writer thread, without the lock.

        A committed event leaves `inflight` (a repeat now finds it stored). A failed or
        cancelled one is handed to `Live.revert_later`, forgotten, and only then leaves
        `inflight`: in that order, a retry that no longer sees it in flight also finds its
        revert queued, and the walk applies the revert before walking the retry. Taking the
        lock here instead would cost a lock hand-off per event and could deadlock with a
        holder of the lock that waits for `writer.flush()` (checkpoint, policy backfill).
        """
        inflight = self.inflight
        for key, future in done:
            entry = inflight.get(key)  # one entry per key: a repeat in flight is never resubmitted
            if entry is None:
                continue  # not submitted by the walk
            if not future.cancelled() and future.exception() is None:
                seq = future.result()
                if seq > self.last_seq:
                    self.last_seq = seq
            elif self.live.shared and isinstance(future.exception(), DuplicateEvent):
                pass  # another replica stored this event first: the shared windows hold it once, keep them
            else:
                self.live.revert_later(entry)
                self.forget(*key)
            del inflight[key]
