"""Live state from the records: one path for each kind of state, at start and after a failed commit.

- windows: the checkpoint plus the events stored after it, or every stored event
  (`restore_windows`); server mode reads the shared state as it is, unless Redis lost it
  (`rebuild_shared_state`: one replica refills it, the others wait);
- networks: the checkpoint plus the events after it, or every stored event linked in order with
  its decision's outcome marked after it (`restore_networks`, through `relink`);
- holds, flagged rings and investigators' dispositions (`restore_holds`);
- device registries, by replaying every stored sighting in the order stored (`restore_devices`);
- one tenant's network and holds again from its records when a commit failed (`rebuild_tenant`,
  the change-log operation `rebuild`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tianwang.holds.book import Hold
from tianwang.live import checkpoint
from tianwang.network import Network
from tianwang.state.memory import MemoryState
from tianwang.store import devices as device_repo
from tianwang.store import events as event_repo
from tianwang.store import holds as holds_repo
from tianwang.store import rings as rings_repo

if TYPE_CHECKING:
    from tianwang.live.memory import Live
    from tianwang.live.policies import PolicyBook

log = logging.getLogger("tianwang")


def register(live: Live) -> None:
    """`rebuild` (a failed commit) is this module's change: every replica rebuilds the tenant."""
    live.ops.register("rebuild", lambda tenant: rebuild_tenant(live, tenant))


# ---------------------------------------------------------------------------- the two replays


def replay_windows(rows: Iterable[dict], policies: PolicyBook, state: Any) -> int:
    """Count stored events into the window state, in stored order, by their tenant's live policy."""
    n = 0
    for row in rows:
        bundle = policies.loaded(row["tenant"])
        if bundle is not None:
            bundle.streams.update(row["payload"], tenant=row["tenant"], state=state, token=row["event_id"])
        n += 1
    return n


def relink(rows: Iterable[dict], network_for: Callable[[str], Network],
           linked: dict[str, set[int]] | None = None) -> int:
    """Link stored events (with their decision's outcome) in stored order; `linked`: the hashes of
    their ids are added per tenant (what the change log must not link again)."""
    n = 0
    for row in rows:
        net = network_for(row["tenant"])
        record = row["payload"]
        net.link(record)
        if linked is not None:
            linked.setdefault(row["tenant"], set()).add(hash(row["event_id"]))
        if row["outcome"] is not None:
            net.mark(record["customer_id"], row["outcome"])
        n += 1
    return n


# ---------------------------------------------------------------------------- at start


def restore_windows(live: Live, policies: PolicyBook, path: Path) -> None:
    """Checkpoint + the log after it; or the whole log when there is no usable checkpoint.
    A shared state is read as it is, unless it lost the log (then one replica rebuilds it)."""
    if live.shared:
        if not live.state.holds_log():
            rebuild_shared_state(live, policies)
        return
    started = time.perf_counter()
    after = 0
    if path.exists():
        try:
            live.state, after = MemoryState.load(path)
        except Exception as exc:  # noqa: BLE001
            log.warning("state checkpoint unusable (%s); rebuilding from the event log", exc)
            live.state, after = MemoryState(), 0
    replayed = replay_windows(event_repo.iter_events(live.db, after_seq=after), policies, live.state)
    if replayed:
        log.info("state restored: %d events replayed after seq %d in %.1fs", replayed, after, time.perf_counter() - started)


def rebuild_shared_state(live: Live, policies: PolicyBook) -> None:
    """Refill the shared window state from the event log (Redis restarted empty, or was never
    filled). One replica does it, holding a lock in Redis; the others wait for it, then see
    the state complete and go on. Appends of events walked meanwhile are idempotent."""
    state = live.state
    with state.r.lock(state.ns.decode() + ":rebuild", timeout=3600, blocking_timeout=3600):
        if state.holds_log():
            return
        started = time.perf_counter()
        if live.writer is not None:
            live.writer.flush()
        state.clear()
        with state.bulk():
            replayed = replay_windows(event_repo.iter_events(live.db), policies, state)
        state.mark_complete()
        log.warning("shared window state rebuilt from the event log: %d events in %.1fs", replayed,
                    time.perf_counter() - started)


def restore_networks(live: Live, path: Path) -> dict[str, set[int]]:
    """Checkpoint + the log after it; or the whole log (linked in order, each event's decision
    outcome marked after it) when there is no usable network checkpoint. Returns, in server
    mode, the hashes of the ids linked per tenant (what the change log must not link again)."""
    started = time.perf_counter()
    after = 0
    if path.exists() and not live.changes.shared:  # a replica's own file is not the log's state
        try:
            live.networks, after = checkpoint.read_networks(path, poison=live.poison)
        except Exception as exc:  # noqa: BLE001
            log.warning("network checkpoint unusable (%s); rebuilding from the event log", exc)
            live.networks, after = {}, 0
    restored: dict[str, set[int]] = {}
    rows = event_repo.iter_events_with_outcomes(live.db, after_seq=after)
    linked = relink(rows, live.network, restored if live.changes.shared else None)
    if linked:
        log.info("networks restored: %d events linked after seq %d in %.1fs", linked, after, time.perf_counter() - started)
    for tenant_id in sorted(live.networks):
        live.sync_blacklist(tenant_id)
    return restored


def restore_holds(live: Live, only: str | None = None) -> None:
    """The held events, flagged rings and investigators' dispositions from the records: the
    books, and in each network the members confirmed fraud and the held events since
    rejected (their decisions say review, verify or delay; the holds say how they ended)."""
    with live.db.connect() as conn:
        held = holds_repo.held(conn, tenant=only)
        alerts = rings_repo.alerts(conn, tenant=only)
        dispositions = rings_repo.dispositions(conn, tenant=only)
        rejected = holds_repo.rejected_customers(conn, tenant=only)
    tenants = {only} if only is not None else set(live.networks) | {r["tenant"] for r in held}
    for tenant_id in tenants:
        live.hold_books[tenant_id] = live.new_book(tenant_id)
    for row in held:
        live.holds(row["tenant"]).add(Hold.from_row(row))
    for row in alerts:
        live.holds(row["tenant"]).alerted.add((row["ring_id"], row["code"]))
    for tenant_id, customer_id in rejected:
        live.network(tenant_id).mark(customer_id, "reject")
    for row in dispositions:
        net = live.network(row["tenant"])
        for customer_id in row["members"]:
            net.mark_fraud(customer_id, row["disposition"] == "fraud")
    for tenant_id, book in live.hold_books.items():
        book.journal = live.journal(tenant_id)


def restore_devices(live: Live) -> None:
    """Replay every stored sighting through a fresh registry per tenant, in the order stored."""
    started, n, moved = time.perf_counter(), 0, 0
    for row in device_repo.iter_sightings(live.db):
        res = live.sighting(row["tenant"], row["attrs"], row["token"], row["ip"], row["ts"], row["customer_id"],
                            row["header_order"])
        moved += res.device_id != row["device_id"]
        n += 1
    if n:
        log.info("devices restored: %d sightings replayed in %.1fs", n, time.perf_counter() - started)
    if moved:
        log.warning("devices: %d of %d sightings resolved to another device than when stored", moved, n)


# ---------------------------------------------------------------------------- after a failed commit


def rebuild_tenant(live: Live, tenant_id: str) -> set[int]:
    """The tenant's network and holds again from the records (a commit failed). Returns the hashes
    of the ids of the events it linked (server mode: the change log may bring some again)."""
    if live.writer is not None:
        live.writer.flush()
    net = Network(poison=live.poison)
    linked: dict[str, set[int]] = {tenant_id: set()}
    relink(event_repo.iter_events_with_outcomes(live.db, tenant=tenant_id), lambda _: net, linked)
    live.networks[tenant_id] = net
    live.sync_blacklist(tenant_id)
    restore_holds(live, only=tenant_id)
    log.warning("tenant %s: network rebuilt from the log after a failed commit", tenant_id)
    return linked[tenant_id]
