"""What ends a hold, in the walk and outside it.

- `on_decision` (the walk's step 7, under the lock): the delays that ended by the tenant's
  clock are **released** (`hold.released`); the reverse triggers run on the event's ring
  (holds/reverse.py); a review, verify or delay of a money scene is **held**.
- `release_due`: the sweeper, once a second, ends the delays that ended for tenants quiet
  since (the clock moves on at wall speed while a tenant is quiet).
- A delay whose rule waits for a call's result is not released when it ends: it is escalated
  to a person (`ended`).
- `resolve_hold`: a person's answer to a held event (the review done, the step-up check passed
  or failed), or a trusted intervention's result.

Outside the walk each runs under `live.quiesced()` and commits its effects in one transaction
of its own (`Live.commit`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tianwang.cases.alerts import hold_alert
from tianwang.errors import Conflict, NotFound
from tianwang.holds.book import HELD_OUTCOMES, HELD_SCENES, Hold
from tianwang.holds.effects import about, released, revise
from tianwang.holds.reverse import ring_triggers
from tianwang.store import holds as holds_repo
from tianwang.store import outbox as outbox_repo
from tianwang.store.writer import Effect
from tianwang.timefmt import iso, to_ms

if TYPE_CHECKING:
    from tianwang.live.memory import Live
    from tianwang.metrics import Metrics
    from tianwang.policy.bundle import Bundle


def on_decision(*, live: Live, metrics: Metrics, tenant: str, bundle: Bundle, record: dict,
                measures: dict | None, decision: dict, clock: bool = True) -> list[Effect]:
    """Step 7's holds: release ended delays, apply the reverse triggers, hold this event.
    `clock`: whether the event's time moves the tenant's clock (not an anonymous beacon's)."""
    book = live.holds(tenant)
    now = book.tick(record["ts"]) if clock else book.clock
    effects = ended(metrics, tenant, book, book.ended(now), now)
    if bundle.triggers and measures is not None and measures.get("ring_id") is not None:
        effects.extend(ring_triggers(live, metrics, tenant, bundle, record, measures, decision, book, now))
    if decision["outcome"] in HELD_OUTCOMES and record["scene"] in HELD_SCENES:
        until = to_ms(datetime.fromisoformat(decision["delay_until"])) if decision["delay_until"] else None
        active = bundle.active.get(record["scene"])
        waits = until is not None and active is not None and active.waits_for_result(
            {r["code"] for r in decision["reasons"]})
        hold = Hold(record["event_id"], record["customer_id"], record["scene"], decision["outcome"], record["ts"], until,
                    waits)
        book.add(hold)
        row = hold.row(tenant)
        effects.append(lambda conn: holds_repo.add(conn, row))
    return effects


def ended(metrics: Metrics, tenant: str, book, holds: list[Hold], now: int) -> list[Effect]:
    """The delays whose end passed (`book.ended(now)`): released, unless one waits for its call's result
    (a callback nobody made must not pay out): that one is escalated to a person, held with no end."""
    effects: list[Effect] = []
    for hold in holds:
        if hold.waits:
            effects.extend(escalated(metrics, tenant, book, hold, now))
        else:
            effects.append(released(metrics, tenant, hold, now, by="clock"))
    return effects


def escalated(metrics: Metrics, tenant: str, book, hold: Hold, now: int) -> list[Effect]:
    """A waiting delay ended without its interventions' result: a person decides it (the hold, with
    no end now; a `hold.escalated` notification; an alert in the customer's case)."""
    metrics.hold_ended("escalated", "clock")
    book.add(Hold(hold.event_id, hold.customer_id, hold.scene, hold.outcome, hold.ts, None, True))
    payload = {**about(hold), "escalated_at": iso(now), "reason": "the delay ended without its interventions' result"}

    def effect(conn) -> None:
        if holds_repo.escalate(conn, tenant=tenant, event_id=hold.event_id):
            outbox_repo.add(conn, tenant=tenant, topic="hold.escalated", key=f"hold:{hold.event_id}", payload=payload)
    alert = hold_alert(tenant, hold.event_id, hold.customer_id, "HOLD_NO_RESULT: the delay ended without the "
                       "callback's result; decide it", now)
    return [effect, *alert]


def release_due(*, live: Live, metrics: Metrics, tenant: str) -> int:
    """The sweeper: release the tenant's delays that ended by its clock (moved on at wall speed)."""
    book = live.holds(tenant)
    end = book.next_end()
    if end is None or end > book.now():
        return 0
    with live.quiesced():
        book = live.holds(tenant)
        now = book.now()
        done = book.ended(now)
        effects = ended(metrics, tenant, book, done, now)
        live.commit(tenant, effects)
    return len(done)


def resolve_hold(*, live: Live, metrics: Metrics, tenant: str, event_id: str, outcome: str, actor: str,
                 note: str) -> dict[str, Any]:
    """A person's answer to a held event (the review done, the step-up check passed or failed).
    ValueError for an outcome other than pass or reject, NotFound for an event never held,
    Conflict for one already ended. The hold as stored now."""
    if outcome not in ("pass", "reject"):
        raise ValueError("outcome: pass or reject")
    with live.quiesced():
        book = live.holds(tenant)
        hold = book.by_event.get(event_id)
        if hold is None:
            with live.db.connect() as conn:
                row = holds_repo.get(conn, tenant=tenant, event_id=event_id)
            if row is None:
                raise NotFound(f"event {event_id!r} is not held (no review, verify or delay decision)")
            raise Conflict(f"event {event_id!r} was already {row['status']} ({row['final_outcome']}) by {row['resolved_by']}")
        now = book.now()
        by = f"person:{actor}"
        if outcome == "pass":
            book.remove(event_id)
            effects = [released(metrics, tenant, hold, now, by=by, note=note)]
        else:
            reason = {"code": "HOLD_REJECTED_BY_PERSON", "text": note or f"rejected by {actor}", "outcome": "reject"}
            effects = [revise(live, metrics, tenant, book, hold, reason, {"cause": "person"}, now, by=by)]
        live.commit(tenant, effects)
    with live.db.connect() as conn:
        return holds_repo.get(conn, tenant=tenant, event_id=event_id)
