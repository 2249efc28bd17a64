"""Reverse notification (反向通知): a ring that meets a reverse trigger re-decides its members' holds.

Ring triggers are policy (`reverse:`, docs/policy.md) and read ring measures only. When the
event's customer is in a ring that now meets one, the ring is flagged once per trigger
(`ring.flagged`, with every member so the lending system can freeze lines it already
granted, and an alert in the ring's case), and every held event of its members in the
trigger's scenes is re-decided to reject (`decision.revised`). This event's own decision is
re-decided the same way before it is answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tianwang.cases.alerts import ring_alert
from tianwang.decision.outcomes import Outcome
from tianwang.holds.book import HoldBook
from tianwang.holds.effects import flagged, revise
from tianwang.store.writer import Effect

if TYPE_CHECKING:
    from tianwang.live.memory import Live
    from tianwang.metrics import Metrics
    from tianwang.policy.bundle import Bundle


def ring_triggers(live: Live, metrics: Metrics, tenant: str, bundle: Bundle, record: dict, measures: dict,
                  decision: dict, book: HoldBook, now: int) -> list[Effect]:
    """The reverse triggers on the event's ring: flag it, re-decide its members' holds and this decision."""
    net = live.network(tenant)
    if decision["outcome"] == "reject":  # marked a moment ago: the shares count it now
        measures = net.measures(record["customer_id"], record["ts"])
        if measures["ring_id"] is None:
            return []
    values = bundle.trigger_plan.compute(record, tenant=tenant, state=live.state, network=measures)
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
            effects.extend(ring_alert(tenant, ring_id, trigger.code, explained["text"], members, record["ts"]))
    first = fired[0]
    reason = {**first.explain(values), "reverse": True}
    if decision["scene"] in first.scenes:  # this decision: the trigger is one of its reasons
        if Outcome.parse(decision["outcome"]) < first.outcome:
            decision["outcome"] = first.outcome.label
            decision["reasons"].insert(0, reason)
            decision["delay_until"] = None
            live.mark(tenant, record["customer_id"], decision["outcome"])
        else:
            decision["reasons"].append(reason)
    cause = {"cause": "ring_trigger", "trigger": first.code, "ring_id": ring_id, "by_event": record["event_id"]}
    for cid in members:
        for hold in book.of(cid):
            if hold.scene in first.scenes:
                effects.append(revise(live, metrics, tenant, book, hold, reason, cause, now, by=f"reverse:{first.code}"))
    return effects
