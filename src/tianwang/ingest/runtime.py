"""The running platform: database, writer, online state, lists, live bundles, tenants.

`Runtime.open(settings)` brings everything up in order (migrations, the PII key, the demo
tenant, the live policy of each tenant, lists, the window state from its checkpoint plus
the tail of the event log, each tenant's network likewise, the held events) and starts the
background work (policy reload, checkpoints, the sweeper that releases ended delays, the
webhook deliveries); `close()` drains and checkpoints. The walk (`walk.py`) reads from it; nothing here decides anything.

`Runtime.open(settings, scratch=True)` is the runtime of a backtest: the same walk, but
the writer stores nothing (`ScratchWriter`) and `close()` writes no checkpoint, because
nobody reads the records or the state of a throwaway data folder, and no decision takes a
fallback for being over its time budget (`time_budget`). Every other decision is the one a
stored run gives; a repeat is answered with its identity only, not the first decision.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from contextlib import nullcontext
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tianwang.config import Settings
from tianwang.errors import Conflict, PolicyError
from tianwang.events import Hasher, from_ms
from tianwang.ingest.holds import Hold, HoldBook
from tianwang.ingest.metrics import Metrics
from tianwang.lists.service import ListIndex
from tianwang.network import Network, poison_hashes
from tianwang.network.persist import body as network_body
from tianwang.network.persist import from_body as network_from_body
from tianwang.policy import versions
from tianwang.policy.bundle import Bundle, compile_bundle
from tianwang.state import checkpoint as checkpoint_file
from tianwang.state.base import StateError
from tianwang.state.memory import MemoryState
from tianwang.state.redis import RedisState
from tianwang.store import audit as audit_repo
from tianwang.store import decisions as decision_repo
from tianwang.store import devices as device_repo
from tianwang.store import events as event_repo
from tianwang.store import holds as holds_repo
from tianwang.store import rings as rings_repo
from tianwang.store import lists as list_repo
from tianwang.store import policies as policy_repo
from tianwang.store import tenants as tenant_repo
from tianwang.store.db import make_engine, migrate
from tianwang.store.schema import events as events_table
from tianwang.store.schema import holds as holds_table
from tianwang.store.writer import DuplicateEvent, GroupCommitWriter, ScratchWriter
from tianwang.variables.offline import backfill

log = logging.getLogger("tianwang")
DEFAULT_POLICY = Path(__file__).resolve().parents[3] / "policies" / "default"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str


@dataclass(slots=True)
class InFlight:
    """An event handed to the writer and not yet settled: what a repeat or a failure needs."""

    tenant: str
    body_hash: str
    accepted: Any  # walk.Accepted, set once the writer has taken the event
    record: dict
    bundle: Bundle


def _tune_gc() -> None:
    """Leave the long-lived state out of garbage collection and collect young objects less often.

    The window state is millions of small objects that live for days; with the default
    thresholds a full collection walks all of them every few thousand events (measured:
    2,270 → 2,830 decisions/s in bench/decide.py's walk). The walk creates no cycles worth
    chasing quickly, so rarer young collections lose nothing.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class Runtime:
    def __init__(self, settings: Settings, *, scratch: bool = False):
        if settings.intervention_provider not in ("simulated", "webhook", "off"):
            raise PolicyError("TIANWANG_INTERVENTION_PROVIDER", "one of simulated, webhook, off")
        if settings.cube_hours < 1:
            raise PolicyError("TIANWANG_CUBE_HOURS", "at least 1 (hours the monitoring cube keeps a minute's counts)")
        if not settings.stream_claim_s > 0:
            raise PolicyError("TIANWANG_STREAM_CLAIM_S", "more than 0 seconds")
        self.settings = settings
        self.scratch = scratch  # nothing kept: no records stored, no checkpoint (backtests)
        # Whether a decision over its strategy's timeout_ms takes on_error. Not in a backtest: a
        # pause of the replaying process would give a few events a fallback outcome at random,
        # and no two runs would agree (measured on a month of 20,000 customers: collections of
        # the young generation up to 0.17 s, 14 of 250,932 decisions over the 50 ms budget).
        self.time_budget = not scratch
        self.log = log
        self.walk_lock = threading.RLock()
        # (tenant, event_id) → InFlight, from the walk's store step until the writer settles it.
        self.inflight: dict[tuple[str, str], InFlight] = {}
        # Events whose commit failed, to take out of the window state before the next walk.
        self._reverts: deque[InFlight] = deque()
        self.metrics = Metrics()
        self.lists = ListIndex(on_blacklist=self._sync_blacklist)
        self.state = MemoryState()
        from tianwang.ingest.changes import LocalChanges

        self.changes = LocalChanges(self)  # server mode: SharedChanges, the replicas' change log
        self.follower = None
        # tenant → its link graph and rings (the walk's step 5); built lazily, checkpointed with the state
        self.networks: dict[str, Network] = {}
        self._poison: frozenset[str] = frozenset()
        # Tenants whose network linked an event that was then not stored: rebuilt from the log
        # before the next walk (a network has no undo; a failed commit is rare).
        self._stale_networks: set[str] = set()
        # tenant → its held events (review, verify, delay) and the rings already flagged (ingest/notify.py)
        self.hold_books: dict[str, HoldBook] = {}
        self.cube = None  # the monitoring cube (monitor/), read by GET /v1/monitor/cube
        self.feed = None  # what the writer hands committed decisions to: the cube, or the decided stream
        self.cube_consumer = None  # server mode's worker: the decided stream's reader (monitor/feed.py)
        self.dispatcher = None  # the webhook deliveries (ingest/webhooks.py), in a server only
        self.interventions = None  # the intervention tasks' worker (interventions/worker.py), likewise
        self._iv_providers: dict[str, Any] = {}
        # tenant → its device registry (device/), rebuilt from the stored sightings on start
        self.device_registries: dict[str, Any] = {}
        self.timezone = ZoneInfo(settings.timezone)
        self._bundles: dict[str, tuple[Bundle, int | None]] = {}
        self._tenants_by_key: dict[str, Tenant] = {}
        self._tenants_loaded_at = 0.0
        self._last_seq = 0
        # Every stored (tenant, event_id), as hashes: a new id (nearly every event) is known
        # new without a database read; a seen one is confirmed against the record.
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.demo_key: str | None = None

    # ------------------------------------------------------------------ start / stop

    @classmethod
    def open(cls, settings: Settings, *, background: bool = True, scratch: bool = False,
             deliver: bool = True) -> "Runtime":
        """`deliver`: run the hold sweeper and the webhook and intervention deliveries (one process
        of a deployment does: the embedded server, or server mode's worker)."""
        if settings.state and not scratch and not settings.pii_key:
            raise PolicyError("TIANWANG_PII_KEY", "server mode needs the same TIANWANG_PII_KEY on every replica "
                              "(a key file in each data folder would hash the same phone differently)")
        rt = cls(settings, scratch=scratch)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        rt.db = make_engine(settings.db, settings.data_dir)
        migrate(rt.db)
        if settings.state and not scratch:
            from tianwang.ingest.changes import SharedChanges

            rt.state = RedisState(settings.state)
            rt.changes = SharedChanges(rt, settings.state)
        rt.hasher = Hasher(rt._pii_key())
        rt.console_key = rt._console_key()
        from tianwang.console.auth import Throttle

        rt.signin_throttle = Throttle()
        # The key device tokens are signed with: derived from the PII key, so one secret to keep.
        rt._device_root = hashlib.sha256(b"tianwang device token\0" + rt._pii_key()).digest()
        rt._poison = frozenset(poison_hashes(rt.hasher))
        rt._ensure_demo_tenant()
        rt.reload_tenants()
        rt.reload_policies()
        if rt.changes.shared:  # the records are read below; the log after this point is applied on top
            position = rt.changes.end()
        with rt.db.connect() as conn:
            rt.lists.load(list_repo.all_entries(conn))
        rt._restore_state()
        rt._restore_networks()
        if not scratch:
            rt._restore_holds()
            rt._restore_devices()
        if rt.changes.shared:
            rt.changes.start_at(position, rt._restored_ids)
            rt.changes.catch_up()
        _tune_gc()
        if not scratch:
            rt._open_cube()
        rt.writer = ScratchWriter() if scratch else GroupCommitWriter(rt.db, on_commit=rt.feed.committed)
        rt.writer.add_listener(rt._settle)
        if background and rt.changes.shared:
            from tianwang.ingest.changes import Follower

            rt.follower = Follower(rt)
            rt.follower.start()
        if background:
            rt._spawn(rt._watch_policies, "policy-watch")
            rt._spawn(rt._checkpoint_loop, "checkpoint")
            if not scratch and deliver:
                rt._spawn(rt._sweep_loop, "hold-sweeper")
                from tianwang.ingest.webhooks import WebhookDispatcher

                rt.dispatcher = WebhookDispatcher(rt.db, attempts=settings.webhook_attempts,
                                                  timeout_s=settings.webhook_timeout_s, metrics=rt.metrics)
                rt.dispatcher.start()
                from tianwang.interventions.worker import InterventionWorker

                rt.interventions = InterventionWorker(rt, rt.intervention_provider)
                rt.interventions.start()
                if rt.shared:
                    from tianwang.monitor.feed import CubeConsumer, record_facts

                    rt.cube_consumer = CubeConsumer(rt.stream_url, rt.cube, record_facts(rt.db, rt.cube.retention_s),
                                                    claim_s=settings.stream_claim_s)
                    rt.cube_consumer.start()
        return rt

    @property
    def stream_url(self) -> str | None:
        """Server mode: the Redis of the decided stream and the monitoring cube."""
        return self.settings.stream or self.settings.state

    def _open_cube(self) -> None:
        """The monitoring cube and its feed: in Redis behind the decided stream (server mode), or in
        memory, fed by this process's writer and refilled from the records."""
        from tianwang.monitor import feed

        retention_s = self.settings.cube_hours * 3600
        if self.shared:
            from tianwang.monitor.redis_cube import RedisCube

            self.cube = RedisCube(self.stream_url, retention_s=retention_s)
            self.feed = feed.DecidedStream(self.stream_url)
        else:
            from tianwang.monitor.cube import MemoryCube

            self.cube = MemoryCube(retention_s=retention_s)
            self.feed = feed.LocalFeed(self.cube)
            self.feed.refill(feed.record_facts(self.db, retention_s))

    def close(self) -> None:
        """Drain the writer, checkpoint the state, stop background threads."""
        self._stop.set()
        if self.follower is not None:
            self.follower.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.interventions is not None:
            self.interventions.stop()
        if self.cube_consumer is not None:
            self.cube_consumer.stop()
        self.writer.close()
        if self.feed is not None:
            self.feed.flush()
        self.checkpoint()
        for t in self._threads:
            t.join(timeout=5)
        self.db.dispose()
        if not self.scratch:
            log.info("stopped: every accepted event stored (last seq %d)", self._last_seq)

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _pii_key(self) -> bytes:
        if self.settings.pii_key:
            return self.settings.pii_key.encode()
        path = self.settings.data_dir / "pii.key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def _console_key(self) -> bytes:
        """The key console sessions are signed with (a file in the data folder, made on first start:
        every process of one deployment shares it; deleting it signs everyone out). Server mode:
        derived from the PII key, which every replica has."""
        if self.settings.state:
            return hashlib.sha256(b"tianwang console\0" + self._pii_key()).digest()
        path = self.settings.data_dir / "console.key"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return bytes.fromhex(path.read_text().strip())

    def _ensure_demo_tenant(self) -> None:
        with self.db.begin() as conn:
            if tenant_repo.get_tenant(conn, id="demo") is not None:
                if self.settings.api_key:
                    tenant_repo.set_api_key_hash(conn, id="demo", api_key_hash=hash_key(self.settings.api_key))
                return
            key = self.settings.api_key or f"tw_{secrets.token_urlsafe(24)}"
            try:
                tenant_repo.create_tenant(conn, id="demo", name="Demo lender", api_key_hash=hash_key(key))
            except Conflict:  # another replica starting at the same moment made it first
                if self.settings.api_key:
                    tenant_repo.set_api_key_hash(conn, id="demo", api_key_hash=hash_key(key))
                return
            audit_repo.append_audit(conn, tenant="demo", actor="system", action="tenant.create", target="demo", detail={})
            self.demo_key = key

    def reload_tenants(self) -> None:
        with self.db.connect() as conn:
            rows = tenant_repo.list_tenants(conn)
        self._tenants_by_key = {r["api_key_hash"]: Tenant(r["id"], r["name"]) for r in rows}
        self._tenants_loaded_at = time.monotonic()

    def tenant_by_id(self, tenant_id: str) -> Tenant | None:
        """A tenant by its id (the public `site` of the SDK's beacons), or None."""
        for t in self._tenants_by_key.values():
            if t.id == tenant_id:
                return t
        if time.monotonic() - self._tenants_loaded_at > 1.0:
            self.reload_tenants()
            return next((t for t in self._tenants_by_key.values() if t.id == tenant_id), None)
        return None

    def tenant_for_key(self, api_key: str) -> Tenant | None:
        found = self._tenants_by_key.get(hash_key(api_key))
        # A tenant created by another process since we last looked: reload, at most once a
        # second, so a flood of wrong keys cannot turn into a flood of database reads.
        if found is None and time.monotonic() - self._tenants_loaded_at > 1.0:
            self.reload_tenants()
            found = self._tenants_by_key.get(hash_key(api_key))
        return found

    # ------------------------------------------------------------------ policies

    def bundle(self, tenant_id: str) -> tuple[Bundle, int | None]:
        try:
            return self._bundles[tenant_id]
        except KeyError:
            self.reload_policies()
            return self._bundles[tenant_id]

    def reload_policies(self) -> None:
        """Make each tenant's highest stored version live (publishing the default first if none).

        Polled every two seconds: it reads version numbers only, and loads and compiles a
        bundle just when a tenant's number moved.
        """
        with self.db.connect() as conn:
            tenants = [r["id"] for r in tenant_repo.list_tenants(conn)]
            numbers = policy_repo.live_numbers(conn)
        for tenant_id in tenants:
            current = self._bundles.get(tenant_id)
            number = numbers.get(tenant_id)
            if current is not None and current[1] == number:
                continue
            if number is None:
                number, bundle = self._publish_default(tenant_id)
            else:
                with self.db.connect() as conn:
                    head = policy_repo.get_version(conn, tenant=tenant_id, version=number)
                bundle = compile_bundle(head["files"])
            with self.walk_lock:
                self._backfill_new_streams(tenant_id, bundle)
                self._bundles[tenant_id] = (bundle, number)
            log.info("tenant %s: policy version %s live", tenant_id, number)

    def policy_published(self, tenant_id: str) -> None:
        """A version was just stored by this process: live here at once, and in server mode on every
        replica at this point of the change log (not up to two seconds later, by the poll)."""
        with self.walk_lock:
            self.reload_policies()
            self.changes.note(tenant_id, "policy")
            self.changes.publish()

    def apply_policy(self, tenant_id: str) -> None:
        self.reload_policies()

    def _publish_default(self, tenant_id: str) -> tuple[int, Bundle]:
        folder = self.settings.policy_dir or DEFAULT_POLICY
        try:
            with self.db.begin() as conn:
                return versions.publish_folder(conn, tenant=tenant_id, folder=folder, actor="system", note="first start")
        except PolicyError:  # another process published it first
            with self.db.connect() as conn:
                head = versions.live(conn, tenant=tenant_id)
            return head["version"], compile_bundle(head["files"])

    def _backfill_new_streams(self, tenant_id: str, bundle: Bundle) -> None:
        if tenant_id not in self._bundles or not hasattr(self, "writer"):
            return
        old = {s.id for s in self._bundles[tenant_id][0].streams}
        fresh = bundle.streams.subset(s.id for s in bundle.streams if s.id not in old)
        if len(fresh):
            self.writer.flush()
            records = (row["payload"] for row in event_repo.iter_events(self.db, tenant=tenant_id))
            with self.state.bulk() if self.shared else nullcontext():  # replicas each fill it: appends are idempotent
                n = backfill(fresh, records, state=self.state, tenant_of=lambda _: tenant_id)
            log.info("tenant %s: %d new window streams filled from %d stored events", tenant_id, len(fresh), n)

    def _watch_policies(self) -> None:
        while not self._stop.wait(2.0):
            try:
                self.reload_policies()
            except Exception:  # noqa: BLE001 — a bad stored version must not stop the server
                log.exception("policy reload failed; the live versions stay")

    # ------------------------------------------------------------------ state

    @property
    def _checkpoint_path(self) -> Path:
        return self.settings.data_dir / "state.ckpt"

    @property
    def shared(self) -> bool:
        """Server mode: the window state is shared with other replicas (Redis)."""
        return isinstance(self.state, RedisState)

    def _restore_state(self) -> None:
        """Checkpoint + the log after it; or the whole log when there is no usable checkpoint.
        A shared state is read as it is, unless it lost the log (then one replica rebuilds it)."""
        if self.shared:
            with self.db.connect() as conn:
                self._last_seq = conn.execute(select(events_table.c.seq).order_by(events_table.c.seq.desc()).limit(1)).scalar() or 0
            if not self.state.holds_log():
                self.rebuild_shared_state()
            return
        started = time.perf_counter()
        after = 0
        if self._checkpoint_path.exists():
            try:
                self.state, after = MemoryState.load(self._checkpoint_path)
            except Exception as exc:  # noqa: BLE001
                log.warning("state checkpoint unusable (%s); rebuilding from the event log", exc)
                self.state, after = MemoryState(), 0
        with self.db.connect() as conn:
            self._last_seq = conn.execute(select(events_table.c.seq).order_by(events_table.c.seq.desc()).limit(1)).scalar() or 0
            ids = conn.execute(select(events_table.c.tenant, events_table.c.event_id)).yield_per(10_000)
            self._seen = {hash(tuple(row)) for row in ids}
        replayed = 0
        for row in event_repo.iter_events(self.db, after_seq=after):
            bundle = self._bundles.get(row["tenant"])
            if bundle is not None:
                bundle[0].streams.update(row["payload"], tenant=row["tenant"], state=self.state, token=row["event_id"])
            replayed += 1
        if replayed:
            log.info("state restored: %d events replayed after seq %d in %.1fs", replayed, after, time.perf_counter() - started)

    def rebuild_shared_state(self) -> None:
        """Refill the shared window state from the event log (Redis restarted empty, or was never
        filled). One replica does it, holding a lock in Redis; the others wait for it, then see
        the state complete and go on. Appends of events walked meanwhile are idempotent."""
        state = self.state
        with state.r.lock(state.ns.decode() + ":rebuild", timeout=3600, blocking_timeout=3600):
            if state.holds_log():
                return
            started = time.perf_counter()
            if hasattr(self, "writer"):
                self.writer.flush()
            state.clear()
            replayed = 0
            with state.bulk():
                for row in event_repo.iter_events(self.db):
                    bundle = self._bundles.get(row["tenant"])
                    if bundle is not None:
                        bundle[0].streams.update(row["payload"], tenant=row["tenant"], state=state, token=row["event_id"])
                    replayed += 1
            state.mark_complete()
            log.warning("shared window state rebuilt from the event log: %d events in %.1fs", replayed,
                        time.perf_counter() - started)

    # ------------------------------------------------------------------ network

    NETWORK_FORMAT = "tianwang.networks"

    @property
    def _network_path(self) -> Path:
        return self.settings.data_dir / "network.ckpt"

    def network(self, tenant_id: str) -> Network:
        """The tenant's network (a new, empty one for a tenant that has none yet)."""
        net = self.networks.get(tenant_id)
        if net is None:
            net = self.networks[tenant_id] = Network(poison=self._poison)
            self._sync_blacklist(tenant_id)
        return net

    def _sync_blacklist(self, tenant_id: str, customer_id: str | None = None) -> None:
        """Mark the tenant's network with its blacklisted customers (black list, entity `customer`)
        as of the network's clock, so an expired entry unmarks: one customer (the list index
        calls this on each change) or all of them (a network created, restored or rebuilt, and
        at each checkpoint, which is when expiries are noticed). A tenant without a network yet
        is marked when `network()` creates it."""
        with self.walk_lock:
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

    def _restore_networks(self) -> None:
        """Checkpoint + the log after it; or the whole log (linked in order, each event's
        decision outcome marked after it) when there is no usable network checkpoint."""
        started = time.perf_counter()
        after = 0
        if self._network_path.exists() and not self.changes.shared:  # a replica's own file is not the log's state
            try:
                data = checkpoint_file.read(self._network_path)
                if not isinstance(data, dict) or data.get("format") != self.NETWORK_FORMAT:
                    raise StateError(f"{self._network_path} is not a network checkpoint")
                self.networks = {t: network_from_body(b, poison=self._poison) for t, b in data["tenants"].items()}
                after = data["last_seq"]
            except Exception as exc:  # noqa: BLE001
                log.warning("network checkpoint unusable (%s); rebuilding from the event log", exc)
                self.networks, after = {}, 0
        linked = 0
        self._restored_ids: dict[str, set[int]] = {}  # server mode: what the change log must not link again
        for row in event_repo.iter_events_with_outcomes(self.db, after_seq=after):
            net = self.network(row["tenant"])
            record = row["payload"]
            net.link(record)
            if self.changes.shared:
                self._restored_ids.setdefault(row["tenant"], set()).add(hash(row["event_id"]))
            if row["outcome"] is not None:
                net.mark(record["customer_id"], row["outcome"])
            linked += 1
        if linked:
            log.info("networks restored: %d events linked after seq %d in %.1fs", linked, after, time.perf_counter() - started)
        for tenant_id in sorted(self.networks):
            self._sync_blacklist(tenant_id)

    def windows_ahead(self, tenant_id: str, record: dict):
        """Server mode: the read of every window the event's strategies need, to send with its
        change-log round trip (state/redis.py `prefetch`); None otherwise."""
        if not self.shared:
            return None
        bundle = self.bundle(tenant_id)[0]
        requests = [r for s in bundle.strategies_for(record["scene"]) for r in bundle.plans[s.name].window_requests(record)]
        return self.state.prefetch(tenant_id, record["ts"], record["event_id"], requests) if requests else None

    def mark(self, tenant_id: str, customer_id: str, outcome: str) -> None:
        """A decision's outcome feeds the tenant's network (only a reject changes it)."""
        self.network(tenant_id).mark(customer_id, outcome)
        if outcome == "reject":
            self.changes.note(tenant_id, "mark", customer_id, outcome)

    def mark_fraud(self, tenant_id: str, customer_id: str, fraud: bool) -> None:
        self.network(tenant_id).mark_fraud(customer_id, fraud)
        self.changes.note(tenant_id, "fraud", customer_id, fraud)

    # What other replicas did, done here (ingest/changes.py; each as the change's origin did it).
    def apply_mark(self, tenant_id: str, customer_id: str, outcome: str) -> None:
        self.network(tenant_id).mark(customer_id, outcome)

    def apply_fraud(self, tenant_id: str, customer_id: str, fraud: bool) -> None:
        self.network(tenant_id).mark_fraud(customer_id, fraud)

    def apply_hold_add(self, tenant_id: str, *fields: Any) -> None:
        self.holds(tenant_id).add(Hold(*fields))

    def apply_hold_end(self, tenant_id: str, event_id: str) -> None:
        self.holds(tenant_id).remove(event_id)

    def apply_alert(self, tenant_id: str, ring_id: str, code: str) -> None:
        self.holds(tenant_id).alerted.add((ring_id, code))

    def apply_list_put(self, tenant_id: str, entry: dict) -> None:
        self.lists.put(tenant_id, entry)

    def apply_list_remove(self, tenant_id: str, list_type: str, entity: str, value: str) -> None:
        self.lists.remove(tenant_id, list_type, entity, value)

    def apply_device(self, tenant_id: str, attrs: dict, token: str | None, ip: str | None, ts: int,
                     customer_id: str | None, header_order: str | None) -> None:
        self.devices(tenant_id).resolve(attrs, token=token, ip=ip, ts=ts, customer_id=customer_id,
                                        header_order=header_order, expected_timezone=self.settings.timezone)

    def network_failed(self, tenant_id: str) -> None:
        """An event the network linked was not stored: rebuild the tenant's network before the next walk."""
        self._stale_networks.add(tenant_id)

    def _rebuild_stale_networks(self) -> None:
        """Under the walk lock: settle what is in flight, then relink each stale tenant's stored log."""
        if self.scratch:  # nothing is stored to rebuild from; the scratch writer does not fail
            self._stale_networks.clear()
            return
        self.writer.flush()
        self.changes.discard()  # what the failed walk noted was not stored
        for tenant_id in sorted(self._stale_networks):
            self.changes.rebuild(tenant_id)  # server mode: told to every replica, this one included
            self._stale_networks.discard(tenant_id)
        self.changes.catch_up()

    def rebuild_tenant(self, tenant_id: str) -> set[int]:
        """The tenant's network and holds again from the records (a commit failed). Returns the hashes
        of the ids of the events it linked (server mode: the change log may bring some again)."""
        if hasattr(self, "writer"):
            self.writer.flush()
        net = Network(poison=self._poison)
        linked: set[int] = set()
        for row in event_repo.iter_events_with_outcomes(self.db, tenant=tenant_id):
            net.link(row["payload"])
            if row["outcome"] is not None:
                net.mark(row["payload"]["customer_id"], row["outcome"])
            linked.add(hash(row["event_id"]))
        self.networks[tenant_id] = net
        self._sync_blacklist(tenant_id)
        self._restore_holds(only=tenant_id)
        log.warning("tenant %s: network rebuilt from the log after a failed commit", tenant_id)
        return linked

    # ------------------------------------------------------------------ holds

    def holds(self, tenant_id: str) -> HoldBook:
        """The tenant's held events (an empty book for a tenant that has none yet)."""
        book = self.hold_books.get(tenant_id)
        if book is None:
            net = self.networks.get(tenant_id)
            book = self.hold_books[tenant_id] = HoldBook(clock=net.last_ts if net is not None else 0,
                                                         keep_revised=self.scratch)
            book.journal = self._journal(tenant_id)
        return book

    def _journal(self, tenant_id: str):
        """What a hold book tells of its changes: the change log (server mode), or nobody."""
        if not self.changes.shared:
            return None
        note = self.changes.note
        return lambda op, *args: note(tenant_id, op, *args)

    def _restore_holds(self, only: str | None = None) -> None:
        """The held events, flagged rings and investigators' dispositions from the records: the
        books, and in each network the members confirmed fraud and the held events since
        rejected (their decisions say review, verify or delay; the holds say how they ended)."""
        with self.db.connect() as conn:
            held = holds_repo.held(conn, tenant=only)
            alerts = rings_repo.alerts(conn, tenant=only)
            dispositions = rings_repo.dispositions(conn, tenant=only)
            query = select(holds_table.c.tenant, holds_table.c.customer_id).where(holds_table.c.status == holds_repo.REJECTED)
            if only is not None:
                query = query.where(holds_table.c.tenant == only)
            rejected = conn.execute(query.distinct()).all()
        tenants = {only} if only is not None else set(self.networks) | {r["tenant"] for r in held}
        for tenant_id in tenants:
            net = self.networks.get(tenant_id)
            self.hold_books[tenant_id] = HoldBook(clock=net.last_ts if net is not None else 0)
        for row in held:
            self.holds(row["tenant"]).add(Hold.from_row(row))
        for row in alerts:
            self.holds(row["tenant"]).alerted.add((row["ring_id"], row["code"]))
        for tenant_id, customer_id in rejected:
            self.network(tenant_id).mark(customer_id, "reject")
        for row in dispositions:
            net = self.network(row["tenant"])
            for customer_id in row["members"]:
                net.mark_fraud(customer_id, row["disposition"] == "fraud")
        for tenant_id, book in self.hold_books.items():
            book.journal = self._journal(tenant_id)

    def _sweep_loop(self) -> None:
        """Release the delays that ended, once a second, for tenants quiet since (ingest/notify.py)."""
        from tianwang.ingest.notify import release_due

        while not self._stop.wait(1.0):
            for tenant_id in sorted(self.hold_books):
                try:
                    release_due(self, tenant_id)
                except Exception:  # noqa: BLE001 — a database down: the next second tries again
                    log.exception("releasing ended delays of tenant %s failed", tenant_id)

    # ------------------------------------------------------------------ devices

    def devices(self, tenant_id: str):
        """The tenant's device registry (empty for a tenant that has none yet)."""
        from tianwang.device.registry import DeviceRegistry

        reg = self.device_registries.get(tenant_id)
        if reg is None:
            key = hashlib.sha256(self._device_root + tenant_id.encode()).digest()
            reg = self.device_registries[tenant_id] = DeviceRegistry(key)
        return reg

    def resolve_device(self, tenant_id: str, attrs: dict, *, token: str | None, ip: str | None, ts: int,
                       customer_id: str | None, header_order: str | None) -> tuple[dict[str, Any], Any]:
        """Resolve an attribute set to a device (under the walk lock: call it holding it, with the
        write of its sighting next in the writer's queue, so the sightings are stored in the order
        they were resolved — the order a restart replays them in, which gives the same ids).
        Returns the answer for the SDK and the effect that stores the sighting."""
        with self.walk_lock:
            res = self.devices(tenant_id).resolve(attrs, token=token, ip=ip, ts=ts, customer_id=customer_id,
                                                  header_order=header_order, expected_timezone=self.settings.timezone)
            self.changes.note(tenant_id, "device", attrs, token, ip, ts, customer_id, header_order)
        row = {"tenant": tenant_id, "ts": ts, "attrs": attrs, "token": token, "ip": ip, "customer_id": customer_id,
               "header_order": header_order, "device_id": res.device_id}
        answer = {"device_id": res.device_id, "token": res.token, "confidence": res.confidence, "how": res.how}
        return answer, (lambda conn: device_repo.add_sighting(conn, row))

    def device_of_token(self, tenant_id: str, token: str | None) -> dict[str, Any] | None:
        """The device a valid token names (no attributes sent), or None."""
        with self.walk_lock:
            device_id = self.devices(tenant_id).device_for_token(token)
        return None if device_id is None else {"device_id": device_id, "token": token, "confidence": None, "how": "token"}

    def device_fields(self, tenant_id: str, device_id: str, record: dict) -> dict[str, Any] | None:
        """The record's `device_*` fields from the registry (None for a device it never issued)."""
        reg = self.device_registries.get(tenant_id)
        return None if reg is None else reg.fields_for(device_id, ts=record["ts"], customer_id=record["customer_id"])

    def _restore_devices(self) -> None:
        """Replay every stored sighting through a fresh registry per tenant, in the order stored."""
        started, n, moved = time.perf_counter(), 0, 0
        for row in device_repo.iter_sightings(self.db):
            res = self.devices(row["tenant"]).resolve(row["attrs"], token=row["token"], ip=row["ip"], ts=row["ts"],
                                                      customer_id=row["customer_id"], header_order=row["header_order"],
                                                      expected_timezone=self.settings.timezone)
            moved += res.device_id != row["device_id"]
            n += 1
        if n:
            log.info("devices restored: %d sightings replayed in %.1fs", n, time.perf_counter() - started)
        if moved:
            log.warning("devices: %d of %d sightings resolved to another device than when stored", moved, n)

    def wake_webhooks(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()
        if self.interventions is not None:
            self.interventions.wake()

    def intervention_provider(self, tenant_id: str):
        """Who carries out the tenant's intervention tasks (TIANWANG_INTERVENTION_PROVIDER), or None."""
        from tianwang.interventions.providers import SimulatedProvider, WebhookProvider

        mode = self.settings.intervention_provider
        if mode == "simulated":
            return self._iv_providers.setdefault("*", SimulatedProvider(seed=0))
        if mode == "webhook":
            if tenant_id not in self._iv_providers:
                with self.db.connect() as conn:
                    t = tenant_repo.get_tenant(conn, id=tenant_id)
                url = t["webhook_url"] if t else None
                self._iv_providers[tenant_id] = WebhookProvider(url, t["webhook_secret"]) if url else None
            return self._iv_providers[tenant_id]
        return None

    def _checkpoint_networks(self) -> None:
        body = {"format": self.NETWORK_FORMAT, "last_seq": self._last_seq,
                "tenants": {t: network_body(net) for t, net in sorted(self.networks.items())}}
        checkpoint_file.write(self._network_path, body)

    def committed(self, seq: int) -> None:
        if seq > self._last_seq:
            self._last_seq = seq

    def _settle(self, done: list[tuple[tuple[str, str], Future]]) -> None:
        """The writer's listener: one call per batch, on the writer thread, without the walk lock.

        A committed event leaves `inflight` (a repeat now finds it stored). A failed or
        cancelled one is queued for `apply_reverts`, forgotten, and only then leaves
        `inflight`: in that order, a retry that no longer sees it in flight also finds its
        revert queued, and `accept` applies the revert before walking the retry. Taking the
        walk lock here instead would cost a lock hand-off per event and could deadlock with
        a holder of the lock that waits for `writer.flush()` (checkpoint, policy backfill).
        """
        inflight = self.inflight
        for key, future in done:
            entry = inflight.get(key)  # one entry per key: a repeat in flight is never resubmitted
            if entry is None:
                continue  # not submitted by the walk
            if not future.cancelled() and future.exception() is None:
                self.committed(future.result())
            elif self.shared and isinstance(future.exception(), DuplicateEvent):
                pass  # another replica stored this event first: the shared windows hold it once, keep them
            else:
                self._reverts.append(entry)
                self.forget(*key)
            del inflight[key]

    def apply_reverts(self) -> None:
        """Take the events whose commit failed out of the window state and the networks (under the walk lock)."""
        while self._reverts or self._stale_networks:
            while self._reverts:
                entry = self._reverts.popleft()
                token = entry.record["event_id"]
                entry.bundle.streams.revert(entry.record, tenant=entry.tenant, state=self.state, token=token)
                self._stale_networks.add(entry.tenant)
            if self._stale_networks:
                self._rebuild_stale_networks()  # its flush may settle more failures: loop

    def checkpoint(self) -> None:
        """Write the window state and the networks as of the last committed event (nothing in flight).

        Not in a scratch runtime: a month of window state takes as long to pickle as a tenth
        of its backtest, and twice its memory while it does."""
        with self.walk_lock:
            self.writer.flush()
            self.apply_reverts()
            for tenant_id in sorted(self.networks):
                self._sync_blacklist(tenant_id)  # blacklist entries expired since
            if not self.scratch and not self.shared:  # server mode: Redis is the state, the log the networks'
                self.state.checkpoint(self._checkpoint_path, self._last_seq)
                self._checkpoint_networks()

    def _checkpoint_loop(self) -> None:
        while not self._stop.wait(self.settings.checkpoint_every_s):
            try:
                self.checkpoint()
            except Exception:  # noqa: BLE001
                log.exception("checkpoint failed")

    # ------------------------------------------------------------------ records

    def remember(self, tenant_id: str, event_id: str) -> None:
        if not self.scratch:  # the scratch writer keeps its own index of the ids it took
            self._seen.add(hash((tenant_id, event_id)))

    def forget(self, tenant_id: str, event_id: str) -> None:
        self._seen.discard(hash((tenant_id, event_id)))

    def stored_decision(self, tenant_id: str, event_id: str) -> tuple[dict, str] | None:
        """The stored decision and body hash of an event, if it was stored before.

        Scratch: no decision was stored, so a repeat gets its identity alone (the backtest
        only counts repeats); its body hash is still checked."""
        if self.scratch:
            body_hash = self.writer.body_hash(tenant_id, event_id)
            return None if body_hash is None else ({"event_id": event_id}, body_hash)
        if not self.changes.maybe_stored(tenant_id, event_id):
            return None  # never stored here (server mode: never linked by any replica): new
        with self.db.connect() as conn:
            event = event_repo.get_event(conn, tenant=tenant_id, event_id=event_id)
            if event is None:
                return None
            row = decision_repo.get_decision(conn, tenant=tenant_id, event_id=event_id)
        return decision_from_row(row), event["body_hash"]

    def event_row(self, tenant_id: str, record: dict, body_hash: str) -> dict:
        return {
            "tenant": tenant_id,
            "event_id": record["event_id"],
            "scene": record["scene"],
            "customer_id": record["customer_id"],
            "ts": record["ts"],
            "body_hash": body_hash,
            "payload": record,
            "received_at": datetime.now(timezone.utc),
        }

    def decision_row(self, d: dict) -> dict:
        """The decision's own columns; the writer copies tenant, event_id, scene … from its event."""
        return {
            "outcome": d["outcome"],
            "score": d["score"],
            "reasons": d["reasons"],
            "interventions": d["interventions"],
            "values": d["values"],
            "policy_version": d["policy_version"],
            "strategy": d["strategy"],
            "shadow": d["shadow"],
            "delay_until": d["delay_until"],
            "fallback": d["fallback"],
            "latency_us": int(d["latency_ms"] * 1000),
            "decided_at": datetime.now(timezone.utc),
        }


def decision_from_row(row: dict) -> dict:
    """A stored decision in the shape POST /v1/events answers with."""
    version = row["policy_version"]
    return {
        "event_id": row["event_id"],
        "scene": row["scene"],
        "customer_id": row["customer_id"],
        "occurred_at": from_ms(row["ts"]).isoformat().replace("+00:00", "Z"),
        "outcome": row["outcome"],
        "score": row["score"],
        "reasons": row["reasons"],
        "interventions": row["interventions"],
        "delay_until": row["delay_until"],
        "strategy": row["strategy"],
        "policy_version": version,
        "strategy_version": f"{row['strategy']}@{version}" if row["strategy"] else None,
        "shadow": row["shadow"] or [],
        "fallback": row["fallback"],
        "values": row["values"],
        "latency_ms": row["latency_us"] / 1000,
        "duplicate": False,
    }
