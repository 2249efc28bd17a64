"""Preview of collection rules: is each valid, and how many stored captured events would it match?

A selector that silently matches nothing is the classic failure of autocapture products. Before
a rule is published, the analyst sees for each rule either why it is refused or the number of
the tenant's stored `behavior` events of the last `days` days (event time, up to the latest
one stored) it would have matched, with a few examples, so a typo shows as a zero.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from tianwang.collect.rules import CollectRule, parse_rules
from tianwang.collect.selectors import parse_path
from tianwang.errors import PolicyError
from tianwang.store.schema import events

DAY_MS = 86_400_000
MAX_SCANNED = 200_000
EXAMPLES = 3


def preview(*, db: Engine, tenant: str, items: list[Any], days: int = 7) -> dict[str, Any]:
    """Each rule's verdict: `error`, or `matched` of `scanned` stored captured events."""
    rules, out = [], []
    for i, item in enumerate(items):
        try:
            rule = parse_rules([item], source="preview")[0]
        except PolicyError as exc:
            out.append({"index": i, "name": item.get("name") if isinstance(item, dict) else None,
                        "valid": False, "error": str(exc).replace("preview: collect[0]", f"collect[{i}]")})
            continue
        rules.append(rule)
        out.append({"index": i, "name": rule.name, "valid": True})
    counts, scanned = count_matches(db, tenant, rules, days=days)
    valid = iter(counts)
    for verdict in out:
        if verdict["valid"]:
            verdict.update(next(valid))
    return {"days": days, "scanned": scanned, "rules": out}


def count_matches(engine: Engine, tenant: str, rules: list[CollectRule], *, days: int = 7) -> tuple[list[dict], int]:
    """For each rule, {matched, examples, scanned[, warning]} over the tenant's stored captured
    events of the last `days` days (the newest `MAX_SCANNED`); and how many were scanned."""
    counts = [{"matched": 0, "examples": []} for _ in rules]
    scanned = 0
    if rules:
        with engine.connect() as conn:
            last = conn.execute(select(func.max(events.c.ts)).where(events.c.tenant == tenant,
                                                                     events.c.scene == "behavior")).scalar()
            if last is not None:
                query = (select(events.c.event_id, events.c.payload)
                         .where(events.c.tenant == tenant, events.c.scene == "behavior", events.c.ts > last - days * DAY_MS)
                         .order_by(events.c.seq.desc()).limit(MAX_SCANNED))
                for event_id, payload in conn.execute(query):
                    scanned += 1
                    path = parse_path(payload["selector"]) if payload.get("selector") else None
                    for rule, count in zip(rules, counts):
                        if rule.matches(payload.get("event_type"), payload.get("url"), path):
                            count["matched"] += 1
                            if len(count["examples"]) < EXAMPLES:
                                count["examples"].append({"event_id": event_id, "url": payload.get("url"),
                                                          "selector": payload.get("selector")})
    for count in counts:
        count["scanned"] = scanned
        if count["matched"] == 0:
            count["warning"] = (f"matched none of the {scanned:,} captured events of the last {days} days: "
                                "check the type, the url pattern and the selector")
    return counts, scanned
