"""The walk every event takes, in one function that reads top to bottom.

`accept` validates the event (step 1), then under the live state's lock (`walk`, steps 2-9 in
the order they run) dedupes it, enriches it, links it into its tenant's network, computes
variables, decides (and marks the outcome in the network), settles holds, reverse
notification, alerts and tasks, updates the window state and hands the event, its decision and
the effects of step 7 to the group-commit writer. It returns an `Accepted` whose `wait()` (or
`await`able future) gives the decision once it is durable. Every event sees exactly the
events accepted before it, in the order they are stored (the order offline replay uses).
The walk reads the parts it names in `Parts` (app/platform.py's `Platform` is one).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import DBAPIError

from tianwang.cases.alerts import alerts_for
from tianwang.decision.outcomes import Outcome
from tianwang.errors import Conflict, StoreUnavailable
from tianwang.events import EventBase, normalise, parse_event
from tianwang.holds.service import on_decision
from tianwang.ingest.decision import Decision, event_row
from tianwang.ingest.idempotency import Accepted, InFlight, fingerprint
from tianwang.interventions.tasks import tasks_for
from tianwang.live.restore import rebuild_shared_state
from tianwang.state.base import StateError
from tianwang.state.redis import StateLost
from tianwang.timefmt import iso

if TYPE_CHECKING:
    import logging
    from zoneinfo import ZoneInfo

    from tianwang.events import Hasher
    from tianwang.ingest.idempotency import Ledger
    from tianwang.live.memory import Live
    from tianwang.live.policies import PolicyBook
    from tianwang.metrics import Metrics
    from tianwang.policy.bundle import Bundle
    from tianwang.tenants.service import Tenant


class Parts(Protocol):
    """What the walk reads."""
    live: Live
    policies: PolicyBook
    ledger: Ledger
    hasher: Hasher
    timezone: ZoneInfo
    writer: Any
    feed: Any
    metrics: Metrics
    log: logging.Logger


def accept(p: Parts, tenant: Tenant, raw: Any, *, effects: tuple = (), clock: bool = True) -> Accepted:
    """One event in, one decision out (durable once `wait()` returns). `effects`: more writes to
    commit with the event (e.g. the device sighting of a beacon, collect/service.py); `clock`:
    whether its time may move the tenant's hold clock (False for an anonymous beacon's events)."""
    event = validate(raw)
    body_hash = fingerprint(raw)
    with p.live.locked():
        try:
            try:
                return walk(p, tenant, event, body_hash, effects, clock)
            except StateLost:  # the shared state was emptied (Redis restarted): refill it from the log, again
                rebuild_shared_state(p.live, p.policies)
                return walk(p, tenant, event, body_hash, effects, clock)
        except (StoreUnavailable, DBAPIError) as exc:  # the records database is away: nothing can be stored
            decision = unstored(p, tenant, enrich(p, tenant, event), exc)
    p.metrics.observe(decision)
    return Accepted(decision)


def walk(p: Parts, tenant: Tenant, event: EventBase, body_hash: str, effects: tuple, clock: bool = True) -> Accepted:
    """Steps 2-9, under the lock, in the order they run."""
    p.live.apply_reverts()  # failed commits leave the windows before anything reads them
    repeat = dedupe(p, tenant, event.event_id, body_hash)                     # 2
    if repeat is not None:
        return repeat
    started = time.perf_counter()
    record = enrich(p, tenant, event)                                          # 3
    measures = link(p, tenant, record, clock)                                  # 4
    try:
        bundle, version = p.policies.bundle(tenant.id)
        values, error = compute_variables(p, tenant, bundle, record, measures)  # 5
        decision = decide(p, tenant, bundle, version, record, values, error, started, measures)  # 6
        effects = [*outbox(p, tenant, bundle, record, measures, decision, clock), *effects]  # 7
        update_state(p, tenant, bundle, record)                                # 8
        p.live.changes.publish()  # server mode: what this walk changed, told to the other replicas
    except BaseException:  # a shared state failed mid-walk: the network has no undo, it is rebuilt
        p.live.changes.discard()
        p.live.network_failed(tenant.id)
        raise
    future = store(p, tenant, record, decision, body_hash, bundle, effects)    # 9
    p.metrics.observe(decision)
    return Accepted(decision, future)


def validate(raw: Any) -> EventBase:
    """Step 1: schema validation (EventError names each bad field; nothing is written)."""
    return parse_event(raw)


def dedupe(p: Parts, tenant: Tenant, event_id: str, body_hash: str) -> Accepted | None:
    """Step 2: a repeat returns the first decision; the same id with another body is a conflict."""
    pending = p.ledger.inflight.get((tenant.id, event_id))
    if pending is not None:
        if pending.body_hash != body_hash:
            raise Conflict(f"event_id {event_id!r} was sent before with a different body")
        first = pending.accepted
        return Accepted({**first.decision, "duplicate": True}, first.future)
    stored = p.ledger.stored_decision(tenant.id, event_id)
    if stored is None:
        return None
    decision, stored_hash = stored
    if stored_hash != body_hash:
        raise Conflict(f"event_id {event_id!r} was sent before with a different body")
    if p.feed is not None:  # server mode: the first walk's replica may have died between commit and stream
        p.feed.repeat(tenant.id, decision)
    return Accepted({**decision, "duplicate": True})


def enrich(p: Parts, tenant: Tenant, event: EventBase) -> dict[str, Any]:
    """Step 3: the flat record every later stage reads: PII hashed, derived fields added, and
    when its device_id is one the device registry issued, what the registry says of it
    (`device_*`: the match's confidence, automation, emulation, tampering, customers on it)."""
    record = normalise(event, hasher=p.hasher, tz=p.timezone)
    device_id = record.get("device_id")
    if device_id is not None and device_id[:1] == "D":
        fields = p.live.device_fields(tenant.id, device_id, record)
        if fields:
            record.update(fields)
    return record


def link(p: Parts, tenant: Tenant, record: dict, clock: bool = True) -> dict[str, Any] | None:
    """Step 4: the event's links join the tenant's network; its customer's ring / network
    measures come back, already counting them (None if linking failed: a plan that reads a
    measure then takes the fallback, one that does not decides as usual). Server mode reads
    every window the event's strategies need in the same round trip (`windows_ahead`)."""
    try:
        return p.live.changes.link(tenant.id, record, reads=windows_ahead(p, tenant, record), clock=clock)
    except (StateError, DBAPIError):
        raise  # server mode: the change log, or the records a rebuild reads, unreachable: not walked
    except Exception:  # noqa: BLE001 — fail safe, said in the decision by compute_variables
        p.log.exception("network link failed for %s", record["event_id"])
        return None


def windows_ahead(p: Parts, tenant: Tenant, record: dict):
    """Server mode: the read of every window the event's strategies need, to send with its
    change-log round trip (state/redis.py `prefetch`); None otherwise."""
    if not p.live.shared:
        return None
    bundle = p.policies.bundle(tenant.id)[0]
    requests = [r for s in bundle.strategies_for(record["scene"]) for r in bundle.plans[s.name].window_requests(record)]
    return p.live.state.prefetch(tenant.id, record["ts"], record["event_id"], requests) if requests else None


def compute_variables(p: Parts, tenant: Tenant, bundle: Bundle, record: dict,
                      measures: dict[str, Any] | None) -> tuple[dict, str | None]:
    """Step 5: the variables the scene's active strategy needs, and nothing else (`network`
    variables read the measures step 4 gave this event). Shadows compute theirs after the
    decision (`shadows`), so they can neither slow it nor fail it."""
    active = bundle.active.get(record["scene"])
    if active is None:
        return {}, None
    try:
        return bundle.plans[active.name].compute(record, tenant=tenant.id, state=p.live.state, lists=p.live.lists,
                                                 network=measures), None
    except StateLost:
        raise  # not a failure of this event: the walk refills the state and goes again
    except Exception as exc:  # noqa: BLE001 — fail safe: the fallback outcome, recorded
        p.log.exception("variables failed for %s", record["event_id"])
        return {}, f"variables failed: {type(exc).__name__}: {exc}"[:250]


def decide(p: Parts, tenant: Tenant, bundle: Bundle, version: int | None, record: dict, values: dict,
           error: str | None, started: float, measures: dict[str, Any] | None = None) -> Decision:
    """Step 6: the active strategy's outcome, from its inputs alone (one over `timeout_ms` stands,
    counted; only a failure, `error`, takes `on_error`); then the shadows, recorded (`shadows`)."""
    active = bundle.active.get(record["scene"])
    result = {"outcome": Outcome.PASS, "score": 0, "reasons": [], "interventions": [], "delay_ms": None}
    if active is not None:
        if error is None:
            result = active.evaluate(values)
        elif active.on_error > result["outcome"]:
            result["outcome"] = active.on_error
    delay_ms = result["delay_ms"]
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    if active is not None and latency_ms > active.timeout_ms:
        p.metrics.over_budget.labels(record["scene"]).inc()
    decision = Decision({
        "event_id": record["event_id"],
        "scene": record["scene"],
        "customer_id": record["customer_id"],
        "occurred_at": record["occurred_at"],
        "outcome": result["outcome"].label,
        "score": result["score"],
        "reasons": result["reasons"],
        "interventions": result["interventions"],
        "delay_until": iso(record["ts"] + delay_ms) if delay_ms else None,
        "strategy": active.name if active else None,
        "policy_version": version,
        "strategy_version": f"{active.name}@{version}" if active else None,
        "shadow": [],
        "fallback": error,
        "values": values,
        "latency_ms": latency_ms,
        "duplicate": False,
    })
    if error is None:
        decision["shadow"] = shadows(p, tenant, bundle, record, measures, values)
    if record.get("placeholders"):  # fields dropped as stand-in values: they linked and counted nothing
        decision["placeholders"] = record["placeholders"]
    return decision


def shadows(p: Parts, tenant: Tenant, bundle: Bundle, record: dict, measures: dict[str, Any] | None,
            values: dict) -> list[dict]:
    """The shadow strategies of the scene, each on its own variables (added to `values`, which the
    decision stores), after the active decision and apart from it: a shadow that fails says so in
    its own entry."""
    out = []
    for s in bundle.shadows.get(record["scene"], ()):
        try:
            mine = bundle.plans[s.name].compute(record, tenant=tenant.id, state=p.live.state, lists=p.live.lists,
                                                network=measures)
            out.append({"strategy": s.name, **Decision.brief(s.evaluate(mine))})
        except StateLost:
            raise
        except Exception as exc:  # noqa: BLE001 — a shadow's failure is its own, recorded beside it
            p.log.exception("shadow %s failed for %s", s.name, record["event_id"])
            out.append({"strategy": s.name, "error": f"{type(exc).__name__}: {exc}"[:250]})
            continue
        for name, value in mine.items():
            values.setdefault(name, value)
    return out


def outbox(p: Parts, tenant: Tenant, bundle: Bundle, record: dict, measures: dict | None,
           decision: dict, clock: bool = True) -> list:
    """Step 7: the outcome feeds the network (a reject counts in its ring's ring_rejected_share);
    delays that ended are released; a ring that meets a reverse trigger re-decides its members'
    held events (this decision too); a review, verify or delay decision is held (holds/); a
    review raises an alert in its subject's case (cases/); the decision's interventions become
    tasks for their provider (interventions/). What to store comes back as effects, committed
    with the event."""
    p.live.mark(tenant.id, decision["customer_id"], decision["outcome"])
    effects = on_decision(live=p.live, metrics=p.metrics, tenant=tenant.id, bundle=bundle, record=record,
                          measures=measures, decision=decision, clock=clock)
    effects.extend(alerts_for(tenant.id, record, decision, measures.get("ring_id") if measures else None))
    effects.extend(tasks_for(tenant.id, record, decision))
    return effects


def update_state(p: Parts, tenant: Tenant, bundle: Bundle, record: dict) -> None:
    """Step 8: the windows now include this event (undone if its commit fails)."""
    bundle.streams.update(record, tenant=tenant.id, state=p.live.state, token=record["event_id"])


def store(p: Parts, tenant: Tenant, record: dict, decision: Decision, body_hash: str, bundle: Bundle,
          effects: list = ()) -> Future:
    """Step 9: event + decision + values + step 7's effects in one group-committed transaction.

    The writer settles the event once its batch is done (`Ledger.settle`): it leaves `inflight`,
    and if the commit failed its window entries are reverted before the next walk.
    """
    ledger = p.ledger
    key = (tenant.id, record["event_id"])
    # In flight before it is submitted: the writer may settle it before `submit` returns.
    entry = ledger.inflight[key] = InFlight(tenant.id, body_hash, None, record, bundle)
    ledger.remember(*key)
    try:
        future = p.writer.submit(event_row(tenant.id, record, body_hash), decision.row(), effects)
    except BaseException:  # refused before it was queued: undo steps 8 and 4 too, nothing was stored
        ledger.inflight.pop(key, None)
        ledger.forget(*key)
        bundle.streams.revert(record, tenant=tenant.id, state=p.live.state, token=record["event_id"])
        p.live.network_failed(tenant.id)
        raise
    entry.accepted = Accepted(decision, future)
    return future


def unstored(p: Parts, tenant: Tenant, record_or_decision: dict, exc: BaseException) -> dict:
    """The answer when the records database cannot store the event: the scene's configured fallback
    outcome (its active strategy's `on_error`), said in `fallback`, with `stored: false`. Nothing
    of the event is kept; the client sends it again once /readyz is ready."""
    bundle, version = p.policies.bundle(tenant.id)
    why = f"records database unavailable ({type(exc).__name__}): not stored, send the event again"
    base = decide(p, tenant, bundle, version, record_or_decision, {}, why, time.perf_counter())
    base.update(delay_until=None, stored=False)
    return base
