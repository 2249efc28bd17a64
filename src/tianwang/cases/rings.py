"""An investigator's word on a ring (`dispose_ring`), the one list of dispositions.

**fraud** marks every member confirmed fraud (the network's `ring_fraud_share`, and a
disposition record that a restart or a rebuild applies again), re-decides every held event of
theirs to reject (`decision.revised`: the reverse notification) and flags the ring
(`ring.flagged`, code `RING_DISPOSITION_FRAUD`); **not_fraud** clears the marks and leaves
held events held. It runs under `live.quiesced()` and commits in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tianwang.decision.outcomes import FRAUD_TYPES
from tianwang.errors import NotFound
from tianwang.holds.effects import flagged, revise
from tianwang.store import audit as audit_repo
from tianwang.store import rings as rings_repo
from tianwang.store.writer import Effect
from tianwang.timefmt import iso

if TYPE_CHECKING:
    from tianwang.live.memory import Live
    from tianwang.metrics import Metrics

DISPOSITIONS = ("fraud", "not_fraud")
DISPOSITION_CODE = "RING_DISPOSITION_FRAUD"


def dispose_ring(*, live: Live, metrics: Metrics, tenant: str, ring_id: str, disposition: str, actor: str,
                 note: str, fraud_type: str | None = None) -> dict[str, Any]:
    """An investigator's word on a ring (see the module docstring). ValueError for a bad
    disposition or fraud type, NotFound for a ring that is gone (merged or dissolved)."""
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition: one of {', '.join(DISPOSITIONS)}")
    if fraud_type is not None and fraud_type not in FRAUD_TYPES:
        raise ValueError(f"fraud_type: one of {', '.join(FRAUD_TYPES)}")
    with live.quiesced():
        net = live.network(tenant)
        members = net.members_of(ring_id)
        if members is None:
            raise NotFound(f"no ring {ring_id!r} (it may have merged or dissolved: GET /v1/rings/{ring_id})")
        book = live.holds(tenant)
        now = book.now()
        by = f"person:{actor}"
        fraud = disposition == "fraud"
        for cid in members:
            live.mark_fraud(tenant, cid, fraud)
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
                    effects.append(revise(live, metrics, tenant, book, hold, reason, cause, now, by=by))
            book.alert(ring_id, DISPOSITION_CODE)
            effects.append(flagged(tenant, ring_id, DISPOSITION_CODE, reason, members, None, {}, by=by, ts=now))
        effects.append(lambda conn: audit_repo.append_audit(
            conn, tenant=tenant, actor=by, action="ring.dispose", target=f"ring:{ring_id}",
            detail={"disposition": disposition, "fraud_type": fraud_type, "note": note, "members": members,
                    "revised": revised}))
        live.commit(tenant, effects)
    return {"ring_id": ring_id, "disposition": disposition, "fraud_type": fraud_type, "members": members,
            "revised": revised, "by": by, "at": iso(now)}
