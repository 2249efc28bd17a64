"""The background work of a process, started after the platform is built and stopped before it closes.

Every process: the policy watch (a version published elsewhere goes live within two seconds)
and the checkpoint loop; server mode adds the change-log follower. The process that delivers
(the embedded server, or server mode's `tianwang worker network`) also runs the sweeper of
ended delays, the webhook deliveries, the intervention tasks with their tenant's provider
(TIANWANG_INTERVENTION_PROVIDER) and, in server mode, the decided stream's consumer.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from tianwang.delivery.webhooks import WebhookDispatcher
from tianwang.holds.service import release_due
from tianwang.interventions.providers import Provider, SimulatedProvider, WebhookProvider
from tianwang.interventions.worker import InterventionWorker
from tianwang.live.changes import Follower
from tianwang.monitor.feed import CubeConsumer, record_facts
from tianwang.store import tenants as tenant_repo

if TYPE_CHECKING:
    from tianwang.app.platform import Platform

log = logging.getLogger("tianwang")


class Workers:
    """The threads of one process (see the module docstring)."""

    def __init__(self, p: Platform) -> None:
        self.p = p
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._providers: dict[str, Provider | None] = {}
        self.follower: Follower | None = None
        self.dispatcher: WebhookDispatcher | None = None
        self.interventions: InterventionWorker | None = None
        self.cube_consumer: CubeConsumer | None = None

    def start(self, *, deliver: bool) -> None:
        p = self.p
        if p.live.changes.shared:
            self.follower = Follower(p.live, p.feed)
            self.follower.start()
        self.spawn(self._watch_policies, "policy-watch")
        self.spawn(self._checkpoint_loop, "checkpoint")
        if p.scratch or not deliver:
            return
        self.spawn(self._sweep_loop, "hold-sweeper")
        settings = p.settings
        self.dispatcher = WebhookDispatcher(p.db, attempts=settings.webhook_attempts,
                                            timeout_s=settings.webhook_timeout_s, metrics=p.metrics)
        self.dispatcher.start()
        self.interventions = InterventionWorker(p.recorder, self.provider_for)
        self.interventions.start()
        if p.shared:
            self.cube_consumer = CubeConsumer(p.stream_url, p.cube, record_facts(p.db, p.cube.retention_s),
                                              claim_s=settings.stream_claim_s)
            self.cube_consumer.start()

    def spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def wake(self) -> None:
        """Something was committed for the lending system or the providers: deliver it now."""
        if self.dispatcher is not None:
            self.dispatcher.wake()
        if self.interventions is not None:
            self.interventions.wake()

    def stop(self) -> None:
        self._stop.set()
        for worker in (self.follower, self.dispatcher, self.interventions, self.cube_consumer):
            if worker is not None:
                worker.stop()

    def join(self) -> None:
        for t in self._threads:
            t.join(timeout=5)

    # ------------------------------------------------------------------ providers

    def provider_for(self, tenant_id: str) -> Provider | None:
        """Who carries out the tenant's intervention tasks (TIANWANG_INTERVENTION_PROVIDER), or None."""
        mode = self.p.settings.intervention_provider
        if mode == "simulated":
            return self._providers.setdefault("*", SimulatedProvider(seed=0))
        if mode == "webhook":
            if tenant_id not in self._providers:
                with self.p.db.connect() as conn:
                    t = tenant_repo.get_tenant(conn, id=tenant_id)
                url = t["webhook_url"] if t else None
                self._providers[tenant_id] = WebhookProvider(url, t["webhook_secret"]) if url else None
            return self._providers[tenant_id]
        return None

    # ------------------------------------------------------------------ loops

    def _watch_policies(self) -> None:
        while not self._stop.wait(2.0):
            try:
                self.p.policies.reload()
            except Exception:  # noqa: BLE001 — a bad stored version must not stop the server
                log.exception("policy reload failed; the live versions stay")

    def _checkpoint_loop(self) -> None:
        while not self._stop.wait(self.p.settings.checkpoint_every_s):
            try:
                self.p.checkpoint()
            except Exception:  # noqa: BLE001
                log.exception("checkpoint failed")

    def _sweep_loop(self) -> None:
        """Release the delays that ended, once a second, for tenants quiet since (holds/service.py)."""
        live = self.p.live
        while not self._stop.wait(1.0):
            for tenant_id in sorted(live.hold_books):
                try:
                    release_due(live=live, metrics=self.p.metrics, tenant=tenant_id)
                except Exception:  # noqa: BLE001 — a database down: the next second tries again
                    log.exception("releasing ended delays of tenant %s failed", tenant_id)
