"""The walk every event takes, in one function that reads top to bottom.

`accept` (steps 2-9 in `walk`, under the walk lock) validates, dedupes, enriches, links the event into its tenant's network, computes
variables, decides (and marks the outcome in the network), settles holds and reverse
notification (ingest/notify.py), updates the online state and hands the event, its decision
and the effects of step 8 to the group-commit writer. It returns an
`Accepted` whose `wait()` (or `await`able future) gives the decision once it is durable.
The CPU part runs under the runtime's walk lock, so every event sees exactly the events
accepted before it, in the order they are stored (the order offline replay uses).
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import orjson

from tianwang.decision.outcomes import Outcome
from sqlalchemy.exc import DBAPIError

from tianwang.errors import Conflict, StoreUnavailable
from tianwang.events import EventBase, from_ms, normalise, parse_event
from tianwang.ingest.notify import notify
from tianwang.ingest.runtime import InFlight, Runtime, Tenant
from tianwang.policy.bundle import Bundle
from tianwang.state.base import StateError
from tianwang.state.redis import StateLost


@dataclass
class Accepted:
    """A decision on its way to durable storage (or already stored, for a repeat)."""

    decision: dict[str, Any]
    future: Future | None = None

    def wait(self, timeout: float | None = 30) -> dict[str, Any]:
        if self.future is not None:
            self.future.result(timeout)
        return self.decision


def accept(rt: Runtime, tenant: Tenant, raw: Any, *, effects: tuple = ()) -> Accepted:
    """One event in, one decision out (durable once `wait()` returns). `effects`: more writes to
    commit with the event (e.g. the device sighting of a beacon, collect/service.py)."""
    event = validate(raw)
    body_hash = fingerprint(raw)
    with rt.walk_lock:
        try:
            try:
                return walk(rt, tenant, event, body_hash, effects)
            except StateLost:  # the shared state was emptied (Redis restarted): refill it from the log, again
                rt.rebuild_shared_state()
                return walk(rt, tenant, event, body_hash, effects)
        except (StoreUnavailable, DBAPIError) as exc:  # the records database is away: nothing can be stored
            decision = unstored(rt, tenant, enrich(rt, tenant, event), exc)
    rt.metrics.observe(decision)
    return Accepted(decision)


def unstored(rt: Runtime, tenant: Tenant, record_or_decision: dict, exc: BaseException) -> dict:
    """The answer when the records database cannot store the event: the scene's configured fallback
    outcome (its active strategy's `on_error`), said in `fallback`, with `stored: false`. Nothing
    of the event is kept; the client sends it again once /readyz is ready."""
    bundle, version = rt.bundle(tenant.id)
    why = f"records database unavailable ({type(exc).__name__}): not stored, send the event again"
    base = decide(bundle, version, record_or_decision, {}, why, time.perf_counter(), budget=False)
    base.update(delay_until=None, stored=False)
    return base


def walk(rt: Runtime, tenant: Tenant, event: EventBase, body_hash: str, effects: tuple) -> Accepted:
    """Steps 2-9, under the walk lock."""
    rt.apply_reverts()  # failed commits leave the windows before anything reads them
    repeat = dedupe(rt, tenant, event.event_id, body_hash)
    if repeat is not None:
        return repeat
    started = time.perf_counter()
    record = enrich(rt, tenant, event)
    measures = link(rt, tenant, record)
    try:
        bundle, version = rt.bundle(tenant.id)
        values, error = compute_variables(rt, tenant, bundle, record, measures)
        decision = decide(bundle, version, record, values, error, started, budget=rt.time_budget)
        mark(rt, tenant, decision)
        effects = [*outbox(rt, tenant, bundle, record, measures, decision), *effects]
        update_state(rt, tenant, bundle, record)
        rt.changes.publish()  # server mode: what this walk changed, told to the other replicas
    except BaseException:  # a shared state failed mid-walk: the network has no undo, it is rebuilt
        rt.changes.discard()
        rt.network_failed(tenant.id)
        raise
    future = store(rt, tenant, record, decision, body_hash, bundle, effects)
    rt.metrics.observe(decision)
    return Accepted(decision, future)


def validate(raw: Any) -> EventBase:
    """Step 1: schema validation (EventError names each bad field; nothing is written)."""
    return parse_event(raw)


def fingerprint(raw: Any) -> str:
    """The body's identity for idempotency: the same keys and values hash alike."""
    return hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()


def dedupe(rt: Runtime, tenant: Tenant, event_id: str, body_hash: str) -> Accepted | None:
    """Step 2: a repeat returns the first decision; the same id with another body is a conflict."""
    pending = rt.inflight.get((tenant.id, event_id))
    if pending is not None:
        if pending.body_hash != body_hash:
            raise Conflict(f"event_id {event_id!r} was sent before with a different body")
        first = pending.accepted
        return Accepted({**first.decision, "duplicate": True}, first.future)
    stored = rt.stored_decision(tenant.id, event_id)
    if stored is None:
        return None
    decision, stored_hash = stored
    if stored_hash != body_hash:
        raise Conflict(f"event_id {event_id!r} was sent before with a different body")
    if rt.feed is not None:  # server mode: the first walk's replica may have died between commit and stream
        rt.feed.repeat(tenant.id, decision)
    return Accepted({**decision, "duplicate": True})


def enrich(rt: Runtime, tenant: Tenant, event: EventBase) -> dict[str, Any]:
    """Step 3: the flat record every later stage reads: PII hashed, derived fields added, and
    when its device_id is one the device registry issued, what the registry says of it
    (`device_*`: the match's confidence, automation, emulation, tampering, customers on it)."""
    record = normalise(event, hasher=rt.hasher, tz=rt.timezone)
    device_id = record.get("device_id")
    if device_id is not None and device_id[:1] == "D":
        fields = rt.device_fields(tenant.id, device_id, record)
        if fields:
            record.update(fields)
    return record


def link(rt: Runtime, tenant: Tenant, record: dict) -> dict[str, Any] | None:
    """Step 4: the event's links join the tenant's network; its customer's ring / network
    measures come back, already counting them (None if linking failed: a plan that reads a
    measure then takes the fallback, one that does not decides as usual)."""
    try:
        return rt.changes.link(tenant.id, record, reads=rt.windows_ahead(tenant.id, record))
    except (StateError, DBAPIError):
        raise  # server mode: the change log, or the records a rebuild reads, unreachable: not walked
    except Exception:  # noqa: BLE001 — fail safe, said in the decision by compute_variables
        rt.log.exception("network link failed for %s", record["event_id"])
        return None


def compute_variables(rt: Runtime, tenant: Tenant, bundle: Bundle, record: dict,
                      measures: dict[str, Any] | None) -> tuple[dict, str | None]:
    """Step 5: the variables the scene's strategies need, and nothing else (`network`
    variables read the measures step 4 gave this event)."""
    values: dict[str, Any] = {}
    try:
        for strategy in bundle.strategies_for(record["scene"]):
            plan = bundle.plans[strategy.name]
            values.update(plan.compute(record, tenant=tenant.id, state=rt.state, lists=rt.lists, network=measures))
    except StateLost:
        raise  # not a failure of this event: the walk refills the state and goes again
    except Exception as exc:  # noqa: BLE001 — fail safe: the fallback outcome, recorded
        rt.log.exception("variables failed for %s", record["event_id"])
        return values, f"variables failed: {type(exc).__name__}: {exc}"[:250]
    return values, None


def decide(bundle: Bundle, version: int | None, record: dict, values: dict, error: str | None, started: float,
           *, budget: bool = True) -> dict:
    """Step 6: the active strategy's outcome; shadows recorded beside it, not enforced.

    `budget`: a decision over the strategy's `timeout_ms` takes its `on_error` outcome (off
    in a backtest, where the replaying machine's own pauses must not change a decision)."""
    active = bundle.active.get(record["scene"])
    result = {"outcome": Outcome.PASS, "score": 0, "reasons": [], "interventions": [], "delay_ms": None}
    fallback = error
    if active is not None:
        if error is None:
            result = active.evaluate(values)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if budget and fallback is None and elapsed_ms > active.timeout_ms:
            fallback = f"took {elapsed_ms:.1f} ms, over the {active.timeout_ms} ms budget"
        if fallback is not None and active.on_error > result["outcome"]:
            result["outcome"] = active.on_error
    shadow = [
        {"strategy": s.name, **_brief(s.evaluate(values))}
        for s in bundle.shadows.get(record["scene"], ())
        if error is None
    ]
    delay_ms = result["delay_ms"]
    return {
        "event_id": record["event_id"],
        "scene": record["scene"],
        "customer_id": record["customer_id"],
        "occurred_at": record["occurred_at"],
        "outcome": result["outcome"].label,
        "score": result["score"],
        "reasons": result["reasons"],
        "interventions": result["interventions"],
        "delay_until": from_ms(record["ts"] + delay_ms).isoformat().replace("+00:00", "Z") if delay_ms else None,
        "strategy": active.name if active else None,
        "policy_version": version,
        "strategy_version": f"{active.name}@{version}" if active else None,
        "shadow": shadow,
        "fallback": fallback,
        "values": values,
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        "duplicate": False,
    }


def mark(rt: Runtime, tenant: Tenant, decision: dict) -> None:
    """Step 6b: the outcome feeds the network (a reject counts in its ring's ring_rejected_share)."""
    rt.mark(tenant.id, decision["customer_id"], decision["outcome"])


def outbox(rt: Runtime, tenant: Tenant, bundle: Bundle, record: dict, measures: dict | None,
           decision: dict) -> list:
    """Step 8: delays that ended are released; a ring that meets a reverse trigger re-decides its
    members' held events (this decision too); a review, verify or delay decision is held. What
    to store comes back as effects, committed with the event (ingest/notify.py)."""
    return notify(rt, tenant.id, bundle, record, measures, decision)


def _brief(result: dict) -> dict:
    return {
        "outcome": result["outcome"].label,
        "score": result["score"],
        "reasons": [r["code"] for r in result["reasons"]],
    }


def update_state(rt: Runtime, tenant: Tenant, bundle: Bundle, record: dict) -> None:
    """Step 9: the windows now include this event (undone if its commit fails)."""
    bundle.streams.update(record, tenant=tenant.id, state=rt.state, token=record["event_id"])


def store(rt: Runtime, tenant: Tenant, record: dict, decision: dict, body_hash: str, bundle: Bundle,
          effects: list = ()) -> Future:
    """Step 7: event + decision + values + step 8's effects in one group-committed transaction.

    The writer settles the event once its batch is done (`Runtime._settle`): it leaves
    `inflight`, and if the commit failed its window entries are reverted before the next walk.
    """
    key = (tenant.id, record["event_id"])
    # In flight before it is submitted: the writer may settle it before `submit` returns.
    entry = rt.inflight[key] = InFlight(tenant.id, body_hash, None, record, bundle)
    rt.remember(*key)
    try:
        future = rt.writer.submit(rt.event_row(tenant.id, record, body_hash), rt.decision_row(decision), effects)
    except BaseException:  # refused before it was queued: undo steps 9 and 4 too, nothing was stored
        rt.inflight.pop(key, None)
        rt.forget(*key)
        bundle.streams.revert(record, tenant=tenant.id, state=rt.state, token=record["event_id"])
        rt.network_failed(tenant.id)
        raise
    entry.accepted = Accepted(decision, future)
    return future
