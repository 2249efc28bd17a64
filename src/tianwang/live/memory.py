"""Every tenant's in-memory state, and the one lock it changes under.

`Live` owns the window state backend, the list index, and per tenant its network, its hold
book and its device registry. Everything that reads or changes them does so under its lock:

- the walk (`with live.locked(): live.apply_reverts(); …`), so every event sees exactly the
  events accepted before it, in the order they are stored;
- an action outside the walk (a disposition, a person's answer, the sweeper, a list edit)
  takes `with live.quiesced():` — the lock, then what is in flight settled (the writer
  flushed) and the failed commits' traces taken out (`apply_reverts`), so it acts on the
  stored state and nothing else;
- a page that reads a network or a book takes `with live.locked():`.

A change made here is told to the other replicas through `changes` (live/changes.py), by an
operation of the registry `ops`, which the owners of each kind of state fill (this module for
marks, holds, alerts, devices and list entries; live/restore.py for `rebuild`;
live/policies.py for `policy`).

An event whose commit failed is handed back by the writer's settlement (`revert_later`): its
window entries are taken out and its tenant's network rebuilt from the records before the next
walk (a network has no undo; a failed commit is rare).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from tianwang.device.registry import DeviceRegistry
from tianwang.errors import StoreUnavailable
from tianwang.holds.book import Hold, HoldBook
from tianwang.lists.index import ListIndex
from tianwang.live.changes import LocalChanges
from tianwang.live.ops import Ops
from tianwang.network import Network

log = logging.getLogger("tianwang")


def _wall_ms() -> int:
    return int(time.time() * 1000)


class Live:
    """The in-memory state of every tenant (see the module docstring)."""

    def __init__(self, *, db: Any, state: Any, poison: frozenset[str], device_key: bytes, timezone: str,
                 scratch: bool = False, shared: bool = False, clock: str = "wall") -> None:
        """`clock`: what bounds the hold books' clocks — "wall" (live serving: never past the
        server's wall clock) or "event" (replays and backtests: event time alone)."""
        if clock not in ("wall", "event"):
            raise ValueError("clock: wall or event")
        self._lock = threading.RLock()
        self.db = db  # the records: what a failed commit's tenant is rebuilt from
        self.state = state  # the window state: MemoryState, or RedisState in server mode
        self.shared = shared  # server mode: the window state and the change log are shared
        self.scratch = scratch  # a backtest: nothing is stored, so nothing is rebuilt
        self.clock_bound: Callable[[], int] | None = _wall_ms if clock == "wall" else None
        self.poison = poison
        self.timezone = timezone  # the tenant's expected device time zone (TIANWANG_TIMEZONE)
        self._device_key = device_key
        self.ops = Ops()
        self.changes: Any = LocalChanges(self)  # server mode: SharedChanges, set by app/boot
        self.lists = ListIndex(on_blacklist=self.sync_blacklist)
        self.networks: dict[str, Network] = {}
        self.hold_books: dict[str, HoldBook] = {}
        self.device_registries: dict[str, DeviceRegistry] = {}
        self.writer: Any = None  # the group-commit writer, once built
        self.wake: Callable[[], None] = lambda: None  # deliveries told of a change committed outside the walk
        self._reverts: deque[Any] = deque()
        self._stale_networks: set[str] = set()
        self._register_ops()

    # ------------------------------------------------------------------ the lock

    def locked(self) -> AbstractContextManager:
        """Hold the lock (`with live.locked():`): the walk, and whoever reads a network or a book.
        The lock itself, re-entrant, so the walk pays nothing for the name."""
        return self._lock

    @contextmanager
    def quiesced(self) -> Iterator[None]:
        """Hold the lock with nothing in flight: the writer flushed, failed commits' traces gone."""
        with self._lock:
            if self.writer is not None:
                self.writer.flush()
            self.apply_reverts()
            yield

    # ------------------------------------------------------------------ per tenant

    def network(self, tenant_id: str) -> Network:
        """The tenant's network (a new, empty one for a tenant that has none yet)."""
        net = self.networks.get(tenant_id)
        if net is None:
            net = self.networks[tenant_id] = Network(poison=self.poison)
            self.sync_blacklist(tenant_id)
        return net

    def read_network(self, tenant_id: str, view: Callable[[Network], Any]) -> Any:
        """`view` of the tenant's network under the lock (an empty network for a tenant with none);
        whatever must not see a later event (an encoded page) is made inside `view`."""
        with self._lock:
            return view(self.networks.get(tenant_id) or Network())

    def holds(self, tenant_id: str) -> HoldBook:
        """The tenant's held events (an empty book for a tenant that has none yet)."""
        book = self.hold_books.get(tenant_id)
        if book is None:
            book = self.hold_books[tenant_id] = self.new_book(tenant_id)
            book.journal = self.journal(tenant_id)
        return book

    def new_book(self, tenant_id: str) -> HoldBook:
        """An empty hold book for the tenant, its clock at its network's latest event (bounded)."""
        net = self.networks.get(tenant_id)
        return HoldBook(clock=net.last_ts if net is not None else 0, keep_revised=self.scratch,
                        bound=self.clock_bound)

    def journal(self, tenant_id: str) -> Callable[..., None] | None:
        """What a hold book tells of its changes: the change log (server mode), or nobody."""
        if not self.changes.shared:
            return None
        note = self.changes.note
        return lambda op, *args: note(tenant_id, op, *args)

    def devices(self, tenant_id: str) -> DeviceRegistry:
        """The tenant's device registry (empty for a tenant that has none yet)."""
        reg = self.device_registries.get(tenant_id)
        if reg is None:
            key = hashlib.sha256(self._device_key + tenant_id.encode()).digest()
            reg = self.device_registries[tenant_id] = DeviceRegistry(key)
        return reg

    def sighting(self, tenant_id: str, attrs: dict, token: str | None, ip: str | None, ts: int,
                 customer_id: str | None, header_order: str | None):
        """A device sighting resolved by the tenant's registry (under the lock)."""
        return self.devices(tenant_id).resolve(attrs, token=token, ip=ip, ts=ts, customer_id=customer_id,
                                               header_order=header_order, expected_timezone=self.timezone)

    def device_fields(self, tenant_id: str, device_id: str, record: dict) -> dict[str, Any] | None:
        """The record's `device_*` fields from the registry (None for a device it never issued)."""
        reg = self.device_registries.get(tenant_id)
        return None if reg is None else reg.fields_for(device_id, ts=record["ts"], customer_id=record["customer_id"])

    # ------------------------------------------------------------------ marks

    def mark(self, tenant_id: str, customer_id: str, outcome: str) -> None:
        """A decision's outcome feeds the tenant's network (only a reject changes it)."""
        self.network(tenant_id).mark(customer_id, outcome)
        if outcome == "reject":
            self.changes.note(tenant_id, "mark", customer_id, outcome)

    def mark_fraud(self, tenant_id: str, customer_id: str, fraud: bool) -> None:
        self.network(tenant_id).mark_fraud(customer_id, fraud)
        self.changes.note(tenant_id, "fraud", customer_id, fraud)

    def sync_blacklist(self, tenant_id: str, customer_id: str | None = None) -> None:
        """Mark the tenant's network with its blacklisted customers (black list, entity `customer`)
        as of the network's clock, so an expired entry unmarks: one customer (the list index
        calls this on each change) or all of them (a network created, restored or rebuilt, and
        at each checkpoint, which is when expiries are noticed). A tenant without a network yet
        is marked when `network()` creates it."""
        with self._lock:
            net = self.networks.get(tenant_id)
            if net is None:
                return
            listed = self.lists.blacklisted_customers(tenant_id, net.last_ts)
            known = net.graph.cust_index
            if customer_id is not None:
                if customer_id in listed or customer_id in known:
                    net.mark_blacklisted(customer_id, customer_id in listed)
                return
            ids = net.graph.cust_ids
            for cid in sorted({ids[c] for c in net.blacklisted} - listed):
                net.mark_blacklisted(cid, False)
            for cid in sorted(listed):
                net.mark_blacklisted(cid)

    # ------------------------------------------------------------------ what other replicas did

    def _register_ops(self) -> None:
        """The changes this module owns, applied here as their origin made them (live/changes.py)."""
        ops = self.ops
        ops.register("mark", lambda t, cid, outcome: self.network(t).mark(cid, outcome))
        ops.register("fraud", lambda t, cid, fraud: self.network(t).mark_fraud(cid, fraud))
        ops.register("hold.add", lambda t, *fields: self.holds(t).add(Hold(*fields)))
        ops.register("hold.end", lambda t, event_id: self.holds(t).remove(event_id))
        ops.register("alert", lambda t, ring_id, code: self.holds(t).alerted.add((ring_id, code)))
        ops.register("list.put", self.lists.put)
        ops.register("list.remove", self.lists.remove)
        ops.register("device", self.sighting)

    # ------------------------------------------------------------------ failed commits

    def revert_later(self, entry: Any) -> None:
        """An event whose commit failed (`ingest.idempotency.InFlight`): out before the next walk.
        Called by the writer's settlement, on the writer thread, without the lock."""
        self._reverts.append(entry)

    def network_failed(self, tenant_id: str) -> None:
        """An event the network linked was not stored: rebuild the tenant's network before the next walk."""
        self._stale_networks.add(tenant_id)

    def apply_reverts(self) -> None:
        """Take the events whose commit failed out of the window state and the networks (under the lock)."""
        while self._reverts or self._stale_networks:
            while self._reverts:
                entry = self._reverts.popleft()
                token = entry.record["event_id"]
                entry.bundle.streams.revert(entry.record, tenant=entry.tenant, state=self.state, token=token)
                self._stale_networks.add(entry.tenant)
            if self._stale_networks:
                self._rebuild_stale_networks()  # its flush may settle more failures: loop

    def _rebuild_stale_networks(self) -> None:
        """Settle what is in flight, then relink each stale tenant's stored log (live/restore.py)."""
        if self.scratch:  # nothing is stored to rebuild from; the scratch writer does not fail
            self._stale_networks.clear()
            return
        self.writer.flush()
        self.changes.discard()  # what the failed walk noted was not stored
        for tenant_id in sorted(self._stale_networks):
            self.changes.rebuild(tenant_id)  # server mode: told to every replica, this one included
            self._stale_networks.discard(tenant_id)
        self.changes.catch_up()

    # ------------------------------------------------------------------ outside the walk

    def commit(self, tenant_id: str, effects: list) -> None:
        """Run effects made outside the walk in one transaction (under `quiesced()`); if it fails,
        the tenant's holds and network are rebuilt from the records before the next event (what
        was changed in memory was not stored). Then the other replicas are told, and deliveries woken."""
        if not effects:
            return
        try:
            with self.db.begin() as conn:
                for effect in effects:
                    effect(conn)
        except Exception as exc:
            self.changes.discard()
            self.network_failed(tenant_id)
            raise StoreUnavailable(f"records database refused the change: {type(exc).__name__}") from exc
        self.changes.publish()  # server mode: the other replicas make the same changes
        self.wake()
