"""Reverse triggers (反向通知): the policy's conditions on a ring that re-decide its members' holds.

A bundle file may hold `reverse:` — a list of triggers, each a rule over **ring** measures
(`network` variables whose measure starts with `ring_`, and `expr` variables over them):

    reverse:
      - code: RING_MOSTLY_REJECTED
        when: "ring_size >= 4 and coalesce(ring_rejected_share, 0) >= 0.5"
        outcome: reject
        scenes: [apply, drawdown]
        reason: "Ring {ring_id}: {ring_rejected_share} of its {ring_size} members rejected"

When an event leaves its customer's ring meeting a trigger, every held decision (review,
verify, delay) of the ring's members in one of the trigger's scenes is re-decided to the
trigger's outcome, the event's own decision included. The outcome is `reject`: a held
decision ends released or rejected, nothing in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tianwang.decision.expr import evaluate
from tianwang.decision.outcomes import Outcome
from tianwang.decision.strategy import Rule, parse_rule
from tianwang.errors import PolicyError
from tianwang.events import SCENES

TRIGGER_KEYS = {"code", "when", "outcome", "scenes", "reason", "fraud_type", "description"}
DEFAULT_SCENES = ("apply", "drawdown")


@dataclass(frozen=True)
class Trigger:
    rule: Rule
    scenes: frozenset[str]

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def outcome(self) -> Outcome:
        return self.rule.outcome

    def fires(self, values: Mapping[str, Any]) -> bool:
        return bool(evaluate(self.rule.condition, values))  # null never fires

    def explain(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return self.rule.explain(values)


def parse_triggers(items: Any, *, source: str, variables: set[str]) -> list[Trigger]:
    """Parse one file's `reverse:` list (the variables they read are checked by the bundle)."""
    if not isinstance(items, list):
        raise PolicyError(source, "`reverse` must be a list of triggers")
    out = []
    for i, item in enumerate(items):
        where = f"{source}: reverse[{i}]"
        if not isinstance(item, dict):
            raise PolicyError(where, "a trigger must be a mapping")
        unknown = sorted(set(item) - TRIGGER_KEYS)
        if unknown:
            raise PolicyError(f"{where}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(TRIGGER_KEYS))}")
        scenes = item.get("scenes", list(DEFAULT_SCENES))
        if not isinstance(scenes, list) or not scenes or any(s not in SCENES for s in scenes):
            raise PolicyError(f"{where}.scenes", f"a non-empty list of scenes: {', '.join(SCENES)}")
        rule = parse_rule({k: v for k, v in item.items() if k != "scenes"}, where, variables)
        if rule.outcome != Outcome.REJECT:
            raise PolicyError(f"{where}.outcome", "must be reject: a held decision ends released or rejected")
        out.append(Trigger(rule, frozenset(scenes)))
    return out


def check_ring_only(triggers: list[Trigger], closure: list[str], kinds: Mapping[str, tuple[str, str | None]]) -> None:
    """Every variable a trigger reads, directly or through expressions, is a ring measure or an
    expression over them: a trigger is judged on a ring, with no event of its own to read."""
    for name in closure:
        kind, measure = kinds[name]
        if kind == "expr":
            continue
        if kind != "network" or not (measure or "").startswith("ring_"):
            codes = ", ".join(t.code for t in triggers)
            raise PolicyError(f"reverse ({codes})", f"reads {name!r}, a {kind} variable; a trigger reads only ring "
                                                    "measures (network variables with a ring_* measure) and "
                                                    "expressions over them")
