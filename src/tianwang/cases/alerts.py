"""Alerts: what puts a subject in front of an investigator, grouped into its open case.

Two things raise an alert, each once (its `(tenant, kind, source)` is unique):
- a decision whose outcome is `review` (`alerts_for`, called by the walk's step 7): kind
  `decision`, source the event id, its first reason and its score;
- a ring flagged by a reverse trigger (`ring_alert`): kind `ring`, source `<ring_id>:<code>`.

The subject is the ring when the customer is in one, else the customer. An alert joins the
subject's OPEN case (status open or investigating) or opens one; the case counts it, and its
`last_ts` and `priority` rise to the alert's (a decision's score; a ring subject +50; a ring
alert 100 + 50 + its size, at most 50).

Nothing here reads the database in the walk: both functions only build **effects**, run later
in the transaction that stores the event (the writer thread runs one transaction at a time, so
"SELECT the subject's open case, INSERT one if there is none" inside the effect is correct;
an open case closed by an investigator meanwhile makes the count fail, and a new case opens).
An effect run again for the same source does nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from tianwang.store import cases as repo
from tianwang.store.writer import Effect

RING_BONUS = 50  # a ring's case comes before a lone customer's of the same score
RING_ALERT_SCORE = 100  # a ring flagged by a reverse trigger
MAX_SIZE_BONUS = 50


def alerts_for(tenant: str, record: dict, decision: dict, ring_id: str | None) -> list[Effect]:
    """The alert of a `review` decision (none for any other outcome), joining the open case of
    the ring `ring_id` (the customer's ring, None when it is in none) or of the customer."""
    if decision["outcome"] != "review":
        return []
    reasons = decision.get("reasons") or []
    if reasons:
        first = reasons[0]
        reason = f"{first.get('code', '')}: {first.get('text', '')}"
    else:  # a fallback review: no rule said why
        reason = f"FALLBACK: {decision.get('fallback') or 'review without a rule'}"
    score = int(decision.get("score") or 0)
    subject = ("ring", ring_id) if ring_id is not None else ("customer", record["customer_id"])
    alert = {"tenant": tenant, "kind": "decision", "source": record["event_id"],
             "customer_id": record["customer_id"], "ring_id": ring_id, "score": score,
             "reason": reason[:512], "ts": record["ts"]}
    return [_raise(alert, subject, score + (RING_BONUS if ring_id is not None else 0))]


def ring_alert(tenant: str, ring_id: str, code: str, reason_text: str, members: list[str],
               ts: int) -> list[Effect]:
    """The alert of a ring flagged by a reverse trigger `code`, joining the ring's open case
    (a bigger ring comes first: + one per member, at most 50)."""
    alert = {"tenant": tenant, "kind": "ring", "source": f"{ring_id}:{code}"[:160], "customer_id": None,
             "ring_id": ring_id, "score": RING_ALERT_SCORE, "reason": f"{code}: {reason_text}"[:512], "ts": ts}
    priority = RING_ALERT_SCORE + RING_BONUS + min(len(members), MAX_SIZE_BONUS)
    return [_raise(alert, ("ring", ring_id), priority)]


def hold_alert(tenant: str, event_id: str, customer_id: str, reason: str, ts: int) -> list[Effect]:
    """The alert of a held event a person must now decide (a delay that ended without the result
    of its interventions), joining the customer's open case."""
    alert = {"tenant": tenant, "kind": "hold", "source": event_id, "customer_id": customer_id, "ring_id": None,
             "score": RING_ALERT_SCORE, "reason": reason[:512], "ts": ts}
    return [_raise(alert, ("customer", customer_id), RING_ALERT_SCORE)]


def _raise(alert: dict[str, Any], subject: tuple[str, str], priority: int) -> Effect:
    kind, subject_id = subject

    def effect(conn: Connection) -> None:
        tenant = alert["tenant"]
        if repo.alert_exists(conn, tenant=tenant, kind=alert["kind"], source=alert["source"]):
            return
        case_id = None
        found = repo.open_case_of(conn, tenant=tenant, subject_kind=kind, subject_id=subject_id)
        if found is not None and repo.count_alert(conn, tenant=tenant, case_id=found["id"], ts=alert["ts"],
                                                  priority=priority):
            case_id = found["id"]
        if case_id is None:
            case_id = repo.create_case(conn, tenant=tenant, subject_kind=kind, subject_id=subject_id,
                                       first_ts=alert["ts"], priority=priority, alerts_count=1)
        repo.add_alert(conn, {**alert, "case_id": case_id})
    return effect
