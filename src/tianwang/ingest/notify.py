"""Step 8 of the walk, and what follows a decision: holds, reverse notification, the outbox.

After an event is decided (`notify`, under the walk lock):
1. the delays that ended by the tenant's clock are **released** (`hold.released`);
2. if the event's customer is in a ring that now meets a **reverse trigger** of the policy
   (decision/triggers.py), the ring is flagged once per trigger (`ring.flagged`, with every
   member so the lending system can freeze lines it already granted), and every held event of
   its members in the trigger's scenes is **re-decided** to reject (`decision.revised`, and an
   audit record saying which trigger, which ring and which values). This event's own decision
   is re-decided the same way before it is answered;
3. if this event's decision is review, verify or delay on a money scene, it is **held**;
4. a review, and a ring flagged, raise an **alert** in the open case of its subject (cases/);
5. the decision's interventions become **tasks** for their provider (interventions/).

An investigator's ring disposition (`dispose_ring`), a person's answer to a held event
(`resolve_hold`) and the wall-clock sweeper (`release_due`) do the same outside the walk.

Each change is made in memory at once (the next event sees it) and written as **effects**:
functions of a connection, run in the transaction that stores the event (store/writer.py),
or in one transaction of their own for the actions outside the walk. So a hold's end, its
outbox row and its audit record are committed together, and only with their cause.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from tianwang.cases.alerts import alerts_for, ring_alert
from tianwang.interventions.tasks import tasks_for
from tianwang.decision.outcomes import FRAUD_TYPES, Outcome
from tianwang.errors import Conflict, NotFound, StoreUnavailable
from tianwang.events import iso, to_ms
from tianwang.ingest.holds import HELD_OUTCOMES, HELD_SCENES, Hold, HoldBook
from tianwang.store import audit as audit_repo
from tianwang.store import holds as holds_repo
from tianwang.store import outbox as outbox_repo
from tianwang.store import rings as rings_repo

if TYPE_CHECKING:
    from tianwang.ingest.runtime import Runtime
    from tianwang.policy.bundle import Bundle

Effect = Callable[[Any], None]
DISPOSITIONS = ("fraud", "not_fraud")
DISPOSITION_CODE = "RING_DISPOSITION_FRAUD"




# ---------------------------------------------------------------------------- the walk's step


def notify(rt: Runtime, tenant: str, bundle: Bundle, record: dict, measures: dict | None,
           decision: dict) -> list[Effect]:
    """Step 8: release ended delays, apply the reverse triggers, hold this event (see the module docstring)."""
    book = rt.holds(tenant)
    now = book.tick(record["ts"])
    effects = [released(rt, tenant, hold, now, by="clock") for hold in book.ended(now)]
    if bundle.triggers and measures is not None and measures.get("ring_id") is not None:
        effects.extend(ring_triggers(rt, tenant, bundle, record, measures, decision, book, now))
    if decision["outcome"] in HELD_OUTCOMES and record["scene"] in HELD_SCENES:
        until = to_ms(datetime.fromisoformat(decision["delay_until"])) if decision["delay_until"] else None
        hold = Hold(record["event_id"], record["customer_id"], record["scene"], decision["outcome"], record["ts"], until)
        book.add(hold)
        row = hold.row(tenant)
        effects.append(lambda conn: holds_repo.add(conn, row))
    # A review (still one after the triggers) is work for a person: an alert in its subject's case.
    effects.extend(alerts_for(rt, tenant, record, decision, measures.get("ring_id") if measures else None))
    # The decision's interventions (a call, an SMS, a pop-up) become tasks for their provider.
    effects.extend(tasks_for(tenant, record, decision))
    return effects


def ring_triggers(rt: Runtime, tenant: str, bundle: Bundle, record: dict, measures: dict, decision: dict,
                  book: HoldBook, now: int) -> list[Effect]:
    """The reverse triggers on the event's ring: flag it, re-decide its members' holds and this decision."""
    net = rt.network(tenant)
    if decision["outcome"] == "reject":  # marked a moment ago: the shares count it now
        measures = net.measures(record["customer_id"], record["ts"])
        if measures["ring_id"] is None:
            return []
    values = bundle.trigger_plan.compute(record, tenant=tenant, state=rt.state, network=measures)
    fired = [t for t in bundle.triggers if t.fires(values)]
    if not fired:
        return []
    ring_id = measures["ring_id"]
    members = net.members_of(ring_id)
    effects = []
    for trigger in fired:
        if (ring_id, trigger.code) not in book.alerted:
            book.alert(ring_id, trigger.code)
            explained = trigger.explain(values)
            effects.append(flagged(tenant, ring_id, trigger.code, explained, members, record, values))
            effects.extend(ring_alert(rt, tenant, ring_id, trigger.code, explained["text"], members, record["ts"]))
    first = fired[0]
    reason = {**first.explain(values), "reverse": True}
    if decision["scene"] in first.scenes:  # this decision: the trigger is one of its reasons
        if Outcome.parse(decision["outcome"]) < first.outcome:
            decision["outcome"] = first.outcome.label
            decision["reasons"].insert(0, reason)
            decision["delay_until"] = None
            rt.mark(tenant, record["customer_id"], decision["outcome"])
        else:
            decision["reasons"].append(reason)
    cause = {"cause": "ring_trigger", "trigger": first.code, "ring_id": ring_id, "by_event": record["event_id"]}
    for cid in members:
        for hold in book.of(cid):
            if hold.scene in first.scenes:
                effects.append(revise(rt, tenant, book, hold, reason, cause, now, by=f"reverse:{first.code}"))
    return effects


# ---------------------------------------------------------------------------- effects


def released(rt: Runtime, tenant: str, hold: Hold, now: int, *, by: str, note: str = "") -> Effect:
    """A held event goes through (a delay that ended, or a person's pass): its hold and the notification."""
    rt.metrics.hold_ended("released", by)
    resolution = {"note": note} if note else {"reason": "the delay ended"}
    payload = {**_about(hold), "outcome": "pass", "released_at": iso(now), "by": by, **resolution}

    def effect(conn) -> None:
        if holds_repo.resolve(conn, tenant=tenant, event_id=hold.event_id, status=holds_repo.RELEASED,
                              final_outcome="pass", ts=now, by=by, resolution=resolution):
            outbox_repo.add(conn, tenant=tenant, topic="hold.released", key=f"hold:{hold.event_id}", payload=payload)
            if by != "clock":
                audit_repo.append_audit(conn, tenant=tenant, actor=by, action="hold.release",
                                        target=f"event:{hold.event_id}", detail=payload)
    return effect


def revise(rt: Runtime, tenant: str, book: HoldBook, hold: Hold, reason: dict, cause: dict, now: int, *,
           by: str) -> Effect:
    """A held event is re-decided to reject (out of the book, marked in the network): its effect."""
    book.remove(hold.event_id)
    rt.metrics.hold_ended("rejected", by)
    if book.revised is not None:
        book.revised.append(hold.event_id)
    rt.mark(tenant, hold.customer_id, "reject")
    resolution = {**cause, "reason": reason}
    payload = {**_about(hold), "from": hold.outcome, "outcome": "reject", "revised_at": iso(now), "by": by,
               **resolution}

    def effect(conn) -> None:
        if holds_repo.resolve(conn, tenant=tenant, event_id=hold.event_id, status=holds_repo.REJECTED,
                              final_outcome="reject", ts=now, by=by, resolution=resolution):
            outbox_repo.add(conn, tenant=tenant, topic="decision.revised", key=f"hold:{hold.event_id}",
                            payload=payload)
            audit_repo.append_audit(conn, tenant=tenant, actor=by, action="decision.revise",
                                    target=f"event:{hold.event_id}", detail=payload)
    return effect


def flagged(tenant: str, ring_id: str, code: str, reason: dict, members: list[str], record: dict | None,
            values: dict, *, by: str = "network", ts: int | None = None) -> Effect:
    """A ring met a trigger (or was marked fraud): the alert, the notification, the audit record."""
    ts = record["ts"] if record is not None else ts
    event_id = record["event_id"] if record is not None else None
    payload = {"ring_id": ring_id, "code": code, "reason": reason, "members": members, "size": len(members),
               "event_id": event_id, "flagged_at": iso(ts), "by": by}

    def effect(conn) -> None:
        rings_repo.add_alert(conn, {"tenant": tenant, "ring_id": ring_id, "code": code, "ts": ts, "event_id": event_id,
                                    "members": members, "measures": values})
        outbox_repo.add(conn, tenant=tenant, topic="ring.flagged", key=f"ring:{ring_id}:{code}", payload=payload)
        audit_repo.append_audit(conn, tenant=tenant, actor=by, action="ring.flag", target=f"ring:{ring_id}",
                                detail={k: v for k, v in payload.items() if k != "members"})
    return effect


def _about(hold: Hold) -> dict[str, Any]:
    return {"event_id": hold.event_id, "customer_id": hold.customer_id, "scene": hold.scene,
            "held_outcome": hold.outcome, "occurred_at": iso(hold.ts),
            "delay_until": iso(hold.until) if hold.until is not None else None}


# ---------------------------------------------------------------------------- outside the walk


def _commit(rt: Runtime, tenant: str, effects: list[Effect]) -> None:
    """Run effects in one transaction; if it fails, the tenant's holds and network are rebuilt from
    the records before the next event (what was changed in memory was not stored)."""
    if not effects:
        return
    try:
        with rt.db.begin() as conn:
            for effect in effects:
                effect(conn)
    except Exception as exc:
        rt.changes.discard()
        rt.network_failed(tenant)
        raise StoreUnavailable(f"records database refused the change: {type(exc).__name__}") from exc
    rt.changes.publish()  # server mode: the other replicas make the same changes
    rt.wake_webhooks()


def release_due(rt: Runtime, tenant: str) -> int:
    """The sweeper: release the tenant's delays that ended by its clock (moved on at wall speed)."""
    book = rt.holds(tenant)
    end = book.next_end()
    if end is None or end > book.now():
        return 0
    with rt.walk_lock:
        rt.writer.flush()
        rt.apply_reverts()
        book = rt.holds(tenant)
        now = book.now()
        effects = [released(rt, tenant, hold, now, by="clock") for hold in book.ended(now)]
        _commit(rt, tenant, effects)
    return len(effects)


def resolve_hold(rt: Runtime, tenant: str, event_id: str, *, outcome: str, actor: str, note: str) -> dict[str, Any]:
    """A person's answer to a held event (the review done, the step-up check passed or failed)."""
    if outcome not in ("pass", "reject"):
        raise ValueError("outcome: pass or reject")
    with rt.walk_lock:
        rt.writer.flush()
        rt.apply_reverts()
        book = rt.holds(tenant)
        hold = book.by_event.get(event_id)
        if hold is None:
            with rt.db.connect() as conn:
                row = holds_repo.get(conn, tenant=tenant, event_id=event_id)
            if row is None:
                raise NotFound(f"event {event_id!r} is not held (no review, verify or delay decision)")
            raise Conflict(f"event {event_id!r} was already {row['status']} ({row['final_outcome']}) by {row['resolved_by']}")
        now = book.now()
        by = f"person:{actor}"
        if outcome == "pass":
            book.remove(event_id)
            effects = [released(rt, tenant, hold, now, by=by, note=note)]
        else:
            reason = {"code": "HOLD_REJECTED_BY_PERSON", "text": note or f"rejected by {actor}", "outcome": "reject"}
            effects = [revise(rt, tenant, book, hold, reason, {"cause": "person"}, now, by=by)]
        _commit(rt, tenant, effects)
    with rt.db.connect() as conn:
        return holds_repo.get(conn, tenant=tenant, event_id=event_id)


def dispose_ring(rt: Runtime, tenant: str, ring_id: str, *, disposition: str, actor: str, note: str,
                 fraud_type: str | None = None) -> dict[str, Any]:
    """An investigator's word on a ring: fraud marks every member confirmed fraud and re-decides
    every held event of theirs to reject; not_fraud clears the marks (held events stay held)."""
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition: one of {', '.join(DISPOSITIONS)}")
    if fraud_type is not None and fraud_type not in FRAUD_TYPES:
        raise ValueError(f"fraud_type: one of {', '.join(FRAUD_TYPES)}")
    with rt.walk_lock:
        rt.writer.flush()
        rt.apply_reverts()
        net = rt.network(tenant)
        members = net.members_of(ring_id)
        if members is None:
            raise NotFound(f"no ring {ring_id!r} (it may have merged or dissolved: GET /v1/rings/{ring_id})")
        book = rt.holds(tenant)
        now = book.now()
        by = f"person:{actor}"
        fraud = disposition == "fraud"
        for cid in members:
            rt.mark_fraud(tenant, cid, fraud)
        row = {"tenant": tenant, "ring_id": ring_id, "disposition": disposition, "fraud_type": fraud_type,
               "members": members, "actor": actor[:128], "note": note, "ts": now}
        effects: list[Effect] = [lambda conn: rings_repo.add_disposition(conn, row)]
        revised: list[str] = []
        if fraud:
            reason = {"code": DISPOSITION_CODE, "text": f"Ring {ring_id} marked fraud by {actor}" + (f": {note}" if note else ""),
                      "outcome": "reject", "fraud_type": fraud_type, "values": {"ring_id": ring_id, "ring_size": len(members)}}
            cause = {"cause": "ring_disposition", "ring_id": ring_id}
            for cid in members:
                for hold in book.of(cid):
                    revised.append(hold.event_id)
                    effects.append(revise(rt, tenant, book, hold, reason, cause, now, by=by))
            book.alert(ring_id, DISPOSITION_CODE)
            effects.append(flagged(tenant, ring_id, DISPOSITION_CODE, reason, members, None, {}, by=by, ts=now))
        effects.append(lambda conn: audit_repo.append_audit(
            conn, tenant=tenant, actor=by, action="ring.dispose", target=f"ring:{ring_id}",
            detail={"disposition": disposition, "fraud_type": fraud_type, "note": note, "members": members,
                    "revised": revised}))
        _commit(rt, tenant, effects)
    return {"ring_id": ring_id, "disposition": disposition, "fraud_type": fraud_type, "members": members,
            "revised": revised, "by": by, "at": iso(now)}
