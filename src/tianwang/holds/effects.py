"""What ends or flags something, as effects: functions of a connection, run in the transaction
that stores their cause (the event, or an action outside the walk), so a hold's end, its outbox
row and its audit record are committed together, and only with their cause.

Each builder makes its change in memory at once (the next event sees it) and returns the
effect that stores it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tianwang.holds.book import Hold, HoldBook
from tianwang.store import audit as audit_repo
from tianwang.store import holds as holds_repo
from tianwang.store import outbox as outbox_repo
from tianwang.store import rings as rings_repo
from tianwang.store.writer import Effect
from tianwang.timefmt import iso

if TYPE_CHECKING:
    from tianwang.live.memory import Live
    from tianwang.metrics import Metrics


def released(metrics: Metrics, tenant: str, hold: Hold, now: int, *, by: str, note: str = "") -> Effect:
    """A held event goes through (a delay that ended, or a person's pass): its hold and the notification."""
    metrics.hold_ended("released", by)
    resolution = {"note": note} if note else {"reason": "the delay ended"}
    payload = {**about(hold), "outcome": "pass", "released_at": iso(now), "by": by, **resolution}

    def effect(conn) -> None:
        if holds_repo.resolve(conn, tenant=tenant, event_id=hold.event_id, status=holds_repo.RELEASED,
                              final_outcome="pass", ts=now, by=by, resolution=resolution):
            outbox_repo.add(conn, tenant=tenant, topic="hold.released", key=f"hold:{hold.event_id}", payload=payload)
            if by != "clock":
                audit_repo.append_audit(conn, tenant=tenant, actor=by, action="hold.release",
                                        target=f"event:{hold.event_id}", detail=payload)
    return effect


def revise(live: Live, metrics: Metrics, tenant: str, book: HoldBook, hold: Hold, reason: dict, cause: dict,
           now: int, *, by: str) -> Effect:
    """A held event is re-decided to reject (out of the book, marked in the network): its effect."""
    book.remove(hold.event_id)
    metrics.hold_ended("rejected", by)
    if book.revised is not None:
        book.revised.append(hold.event_id)
    live.mark(tenant, hold.customer_id, "reject")
    resolution = {**cause, "reason": reason}
    payload = {**about(hold), "from": hold.outcome, "outcome": "reject", "revised_at": iso(now), "by": by,
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


def about(hold: Hold) -> dict[str, Any]:
    return {"event_id": hold.event_id, "customer_id": hold.customer_id, "scene": hold.scene,
            "held_outcome": hold.outcome, "occurred_at": iso(hold.ts),
            "delay_until": iso(hold.until) if hold.until is not None else None}
