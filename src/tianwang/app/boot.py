"""Bring the platform up in order, from settings: the one place that builds every part.

`open(settings)`: settings checked; migrations; the keys; the demo tenant and the tenants;
the live policy of each tenant; the lists; the window state from its checkpoint plus the tail
of the event log, each tenant's network likewise, the held events, the device registries; the
change log caught up (server mode); the garbage collector tuned; the monitoring cube; the
writer; the background workers. `Platform.close()` drains and checkpoints.

`open(settings, scratch=True)` is the platform of a backtest: the same walk, but the writer
stores nothing (`ScratchWriter`) and `close()` writes no checkpoint, because nobody reads the
records or the state of a throwaway data folder. Every decision is the one a stored run
gives; a repeat is answered with its identity only, not the first decision.
"""

from __future__ import annotations

import gc
from zoneinfo import ZoneInfo

from tianwang.app import keys
from tianwang.app.platform import Platform
from tianwang.app.workers import Workers
from tianwang.config import Settings
from tianwang.events import Hasher
from tianwang.holds.service import resolve_hold
from tianwang.ingest.idempotency import Ledger
from tianwang.ingest.walk import accept
from tianwang.interventions.worker import Recorder
from tianwang.live import checkpoint, restore
from tianwang.live.changes import SharedChanges
from tianwang.live.memory import Live
from tianwang.live.policies import PolicyBook
from tianwang.metrics import Metrics
from tianwang.monitor import feed
from tianwang.monitor.cube import MemoryCube
from tianwang.monitor.redis_cube import RedisCube
from tianwang.network import poison_hashes
from tianwang.state.memory import MemoryState
from tianwang.state.redis import RedisState
from tianwang.store import lists as list_repo
from tianwang.store.db import make_engine, migrate
from tianwang.store.writer import GroupCommitWriter, ScratchWriter
from tianwang.tenants.service import Directory, ensure_demo


def tune_gc() -> None:
    """Leave the long-lived state out of garbage collection and collect young objects less often.

    The window state is millions of small objects that live for days; with the default
    thresholds a full collection walks all of them every few thousand events (measured:
    2,270 → 2,830 decisions/s in bench/decide.py's walk). The walk creates no cycles worth
    chasing quickly, so rarer young collections lose nothing.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def open(settings: Settings, *, background: bool = True, scratch: bool = False, deliver: bool = True,
         clock: str | None = None) -> Platform:
    """The platform, up (see the module docstring). `deliver`: run the hold sweeper and the webhook
    and intervention deliveries (one process of a deployment does: the embedded server, or
    server mode's worker). `clock`: what bounds the tenants' hold clocks — "wall" (serving: no
    event moves it past the server's wall clock) or "event" (a replay: event time alone); by
    default "event" in a backtest, "wall" otherwise."""
    settings.check(scratch=scratch)
    shared = bool(settings.state) and not scratch
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder_lock = None if shared or scratch else keys.lock_folder(settings.data_dir)
    try:
        return _build(settings, folder_lock, background=background, scratch=scratch, deliver=deliver, clock=clock)
    except BaseException:  # nothing came up: the folder is free again
        if folder_lock is not None:
            folder_lock.close()
        raise


def _build(settings: Settings, folder_lock, *, background: bool, scratch: bool, deliver: bool,
           clock: str | None) -> Platform:
    shared = bool(settings.state) and not scratch
    db = make_engine(settings.db, settings.data_dir)
    migrate(db)
    _private(settings.data_dir)
    hasher = Hasher(keys.pii_key(settings))
    live = Live(db=db, state=RedisState(settings.state) if shared else MemoryState(),
                poison=frozenset(poison_hashes(hasher)), device_key=keys.device_key(settings),
                timezone=settings.timezone, scratch=scratch, shared=shared,
                clock=clock or ("event" if scratch else "wall"))
    metrics = Metrics()
    if shared:
        live.changes = SharedChanges(live, settings.state, on_round_trip=metrics.windows_round_trip.observe)
    restore.register(live)
    p = Platform(settings=settings, db=db, hasher=hasher, timezone=ZoneInfo(settings.timezone), metrics=metrics,
                 live=live, policies=PolicyBook(live, policy_dir=settings.policy_dir), tenants=Directory(db),
                 ledger=Ledger(live, scratch=scratch), console_key=keys.console_key(settings),
                 customer_key=keys.customer_key(settings),
                 scratch=scratch)
    p.folder_lock = folder_lock
    p.demo_key = ensure_demo(db=db, api_key=settings.api_key)
    p.tenants.reload()
    p.policies.reload()
    _restore(p)
    tune_gc()
    if not scratch:
        p.cube, p.feed = _cube(p)
    p.writer = live.writer = ScratchWriter() if scratch else GroupCommitWriter(db, on_commit=p.feed.committed)
    p.ledger.writer = p.writer
    p.writer.add_listener(p.ledger.settle)
    p.recorder = Recorder(db=db, live=live, resolve_hold=_resolver(p), walk_back=_walker(p))
    p.workers = Workers(p)
    live.wake = p.workers.wake
    if background:
        p.workers.start(deliver=deliver)
    return p


def _private(folder) -> None:
    """The embedded records (SQLite and its journal) readable by this user alone: they hold the
    personal data's keyed hashes and masks, which the PII key beside them would reverse."""
    for path in folder.glob("tianwang.db*"):
        try:
            path.chmod(0o600)
        except OSError:  # not ours to change: say nothing, the operator chose it
            pass


def _restore(p: Platform) -> None:
    """The live state from the records (live/restore.py); server mode then follows the change log
    from where the records were read."""
    live = p.live
    if live.changes.shared:  # the records are read below; the log after this point is applied on top
        position = live.changes.end()
    with p.db.connect() as conn:
        live.lists.load(list_repo.all_entries(conn))
        p.ledger.load(conn)
    restore.restore_windows(live, p.policies, checkpoint.state_path(p.settings.data_dir))
    linked = restore.restore_networks(live, checkpoint.network_path(p.settings.data_dir))
    if not p.scratch:
        restore.restore_holds(live)
        restore.restore_devices(live)
    if live.changes.shared:
        live.changes.start_at(position, linked)
        live.changes.catch_up()


def _cube(p: Platform):
    """The monitoring cube and its feed: in Redis behind the decided stream (server mode), or in
    memory, fed by this process's writer and refilled from the records."""
    retention_s = p.settings.cube_hours * 3600
    if p.shared:
        return RedisCube(p.stream_url, retention_s=retention_s), feed.DecidedStream(p.stream_url)
    cube = MemoryCube(retention_s=retention_s)
    local = feed.LocalFeed(cube)
    local.refill(feed.record_facts(p.db, retention_s))
    return cube, local


def _resolver(p: Platform):
    """`resolve_hold` for the intervention results: a trusted answer to a held event."""
    def resolve(tenant: str, event_id: str, *, outcome: str, actor: str, note: str):
        return resolve_hold(live=p.live, metrics=p.metrics, tenant=tenant, event_id=event_id, outcome=outcome,
                            actor=actor, note=note)
    return resolve


def _walker(p: Platform):
    """Walk a behaviour event of a tenant (an intervention's result fed back): its decision, or None."""
    def walk_back(tenant_id: str, event: dict):
        found = p.tenants.by_id(tenant_id)
        if found is None:
            return None
        return accept(p, found, event).wait()
    return walk_back
