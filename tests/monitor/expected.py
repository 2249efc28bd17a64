"""What the monitoring cube must say, counted straight from the stored decisions (a brute force the
cube is checked against, sharing none of its code)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from tianwang.store.db import make_engine
from tianwang.store.schema import decisions


def from_records(db_url: str | None, data_dir, *, tenant: str = "demo", scene: str | None = None) -> dict:
    """The totals a report of every stored decision gives: decisions, outcomes, rules fired, fallbacks."""
    engine = make_engine(db_url, data_dir)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(decisions.c.scene, decisions.c.outcome, decisions.c.reasons,
                                       decisions.c.fallback).where(decisions.c.tenant == tenant)).all()
    finally:
        engine.dispose()
    rows = [r for r in rows if scene is None or r.scene == scene]
    reasons: Counter = Counter()
    for r in rows:
        reasons.update({x["code"] for x in r.reasons})
    return {"decisions": len(rows), "outcomes": dict(Counter(r.outcome for r in rows)),
            "reasons": dict(reasons), "fallbacks": sum(1 for r in rows if r.fallback)}


def totals(body: dict) -> dict:
    """A cube report's totals in the shape `from_records` gives."""
    t = body["totals"]
    return {"decisions": t["decisions"], "outcomes": t["outcomes"], "reasons": t["reasons"], "fallbacks": t["fallbacks"]}


# Wide enough for every simulated event: the simulator's days lie in November 2026.
EVERYTHING = {"from": "2026-10-01T00:00:00Z", "to": "2026-12-31T00:00:00Z", "step": "day"}
