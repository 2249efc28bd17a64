"""Strategies and rules: parsed from the bundle, compiled once, evaluated per event.

A strategy is the rule set of one scene and its decision matrix: the most severe of the
fired rules' outcomes and the score band reached. `Strategy.evaluate(values)` is the
whole of step 6 of the walk for one strategy.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Mapping

from tianwang.decision.expr import Expr, ExprError, compile_expr, evaluate
from tianwang.decision.outcomes import FRAUD_TYPES, INTERVENTIONS, Outcome
from tianwang.durations import parse_duration_ms
from tianwang.errors import PolicyError
from tianwang.events import SCENES

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
RULE_KEYS = {"code", "when", "outcome", "score", "reason", "interventions", "fraud_type", "delay", "release",
             "description"}
RELEASES = ("result", "delay")  # what ends a delay that names a call: the call's result, or its end
CALLS = ("ai_call", "manual_call")  # the interventions whose answer a delay can wait for
STRATEGY_KEYS = {"name", "scene", "mode", "on_error", "timeout_ms", "bands", "rules", "description"}
BAND_KEYS = {"min_score", "outcome"}


@dataclass(frozen=True)
class Rule:
    code: str
    condition: Expr
    outcome: Outcome
    score: int
    reason: str
    reason_names: tuple[str, ...]  # the placeholders, in order (their literal text around them: reason_parts)
    interventions: tuple[str, ...]
    fraud_type: str | None
    delay_ms: int | None
    release: str = "delay"  # "result": a delay of this rule waits for its interventions' result

    def explain(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The reason as an investigator reads it: code, filled-in text and the values read."""
        shown = {n: values.get(n) for n in sorted(self.condition.names | set(self.reason_names))}
        return {
            "code": self.code,
            "text": render_reason(self.reason, shown),
            "outcome": self.outcome.label,
            "score": self.score,
            "fraud_type": self.fraud_type,
            "values": shown,
        }


MAX_REASON = 500  # characters of a reason template
MAX_SHOWN = 200  # characters one placeholder may fill in


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def render_reason(template: str, shown: Mapping[str, Any]) -> str:
    """The reason's text with each `{name}` filled in, each at most MAX_SHOWN characters. The
    template was checked at publish time (plain placeholders only), so this never raises."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name:
            out.append(_shown(shown.get(name)))
    return "".join(out)


@dataclass(frozen=True)
class Band:
    min_score: int
    outcome: Outcome


@dataclass(frozen=True)
class Strategy:
    name: str
    scene: str
    mode: str
    on_error: Outcome
    timeout_ms: int
    bands: tuple[Band, ...]
    rules: tuple[Rule, ...]
    needs: frozenset[str] = field(default=frozenset())

    def waits_for_result(self, codes: set[str]) -> bool:
        """Whether a delay decided by the rules `codes` waits for its interventions' result."""
        return any(r.release == "result" for r in self.rules if r.code in codes)

    def evaluate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Run every rule over the values and apply the decision matrix."""
        fired = [r for r in self.rules if evaluate(r.condition, values)]  # null never fires
        score = sum(r.score for r in fired)
        outcome = max((r.outcome for r in fired), default=Outcome.PASS)
        for band in self.bands:
            if score >= band.min_score and band.outcome > outcome:
                outcome = band.outcome
        interventions: list[str] = []
        for r in fired:
            interventions.extend(i for i in r.interventions if i not in interventions)
        fired.sort(key=lambda r: (-r.outcome, -r.score, r.code))
        delays = [r.delay_ms for r in fired if r.outcome == Outcome.DELAY and r.delay_ms]
        delayed = outcome == Outcome.DELAY and bool(delays)
        return {
            "outcome": outcome,
            "score": score,
            "reasons": [r.explain(values) for r in fired],
            "interventions": interventions,
            "delay_ms": max(delays) if delayed else None,
        }


def parse_strategies(items: Any, *, source: str, variables: set[str]) -> list[Strategy]:
    """Parse one file's `strategies:` list; every name a rule reads must be a declared variable."""
    if not isinstance(items, list):
        raise PolicyError(source, "`strategies` must be a list")
    return [_parse_strategy(item, f"{source}: strategies[{i}]", variables) for i, item in enumerate(items)]


def _parse_strategy(item: Any, where: str, variables: set[str]) -> Strategy:
    if not isinstance(item, dict):
        raise PolicyError(where, "a strategy must be a mapping")
    _no_unknown(item, STRATEGY_KEYS, where)
    name = _required(item, "name", where)
    if not isinstance(name, str) or not _NAME.match(name):
        raise PolicyError(f"{where}.name", "must be lower_snake_case")
    scene = _required(item, "scene", where)
    if scene not in SCENES:
        raise PolicyError(f"{where}.scene", f"unknown scene {scene!r}; one of {', '.join(SCENES)}")
    mode = item.get("mode", "active")
    if mode not in ("active", "shadow"):
        raise PolicyError(f"{where}.mode", "must be active or shadow")
    on_error = _outcome(item.get("on_error", "review"), f"{where}.on_error")
    timeout_ms = item.get("timeout_ms", 50)
    if not isinstance(timeout_ms, int) or isinstance(timeout_ms, bool) or not 1 <= timeout_ms <= 10_000:
        raise PolicyError(f"{where}.timeout_ms", "must be an integer from 1 to 10000")
    bands = tuple(_parse_band(b, f"{where}.bands[{i}]") for i, b in enumerate(item.get("bands") or []))
    raw_rules = item.get("rules") or []
    if not isinstance(raw_rules, list):
        raise PolicyError(f"{where}.rules", "must be a list")
    rules = tuple(parse_rule(r, f"{where}.rules[{i}]", variables) for i, r in enumerate(raw_rules))
    seen: set[str] = set()
    for i, r in enumerate(rules):
        if r.code in seen:
            raise PolicyError(f"{where}.rules[{i}].code", f"{r.code} appears twice in {name}")
        seen.add(r.code)
    needs = frozenset().union(*(r.condition.names | set(r.reason_names) for r in rules))
    return Strategy(name, scene, mode, on_error, timeout_ms, bands, rules, needs)


def _parse_band(item: Any, where: str) -> Band:
    if not isinstance(item, dict) or set(item) != BAND_KEYS:
        raise PolicyError(where, "a band is {min_score: N, outcome: review|verify|delay|reject}")
    if not isinstance(item["min_score"], int) or isinstance(item["min_score"], bool):
        raise PolicyError(f"{where}.min_score", "must be an integer")
    return Band(item["min_score"], _outcome(item["outcome"], f"{where}.outcome"))


def parse_rule(item: Any, where: str, variables: set[str]) -> Rule:
    """One rule (also the body of a reverse trigger); every name it reads must be a declared variable."""
    if not isinstance(item, dict):
        raise PolicyError(where, "a rule must be a mapping")
    _no_unknown(item, RULE_KEYS, where)
    code = _required(item, "code", where)
    if not isinstance(code, str) or not _CODE.match(code):
        raise PolicyError(f"{where}.code", "must be UPPER_SNAKE_CASE, e.g. APPLY_DEVICE_BURST")
    when = _required(item, "when", where)
    if not isinstance(when, str):
        raise PolicyError(f"{where}.when", "must be an expression in quotes")
    try:
        condition = compile_expr(when, names=variables)
    except ExprError as exc:
        raise PolicyError(f"{where}.when", str(exc)) from None
    outcome = _outcome(item.get("outcome", "pass"), f"{where}.outcome")
    score = item.get("score", 0)
    if not isinstance(score, int) or isinstance(score, bool) or not -1000 <= score <= 1000:
        raise PolicyError(f"{where}.score", "must be an integer from -1000 to 1000")
    reason = _required(item, "reason", where)
    if not isinstance(reason, str) or not reason.strip():
        raise PolicyError(f"{where}.reason", "must be a text an investigator understands")
    if len(reason) > MAX_REASON:
        raise PolicyError(f"{where}.reason", f"at most {MAX_REASON} characters")
    try:
        parts = list(string.Formatter().parse(reason))
    except ValueError as exc:
        raise PolicyError(f"{where}.reason", f"bad placeholder: {exc}") from None
    for _, n, spec, conversion in parts:
        if n is not None and (spec or conversion):
            raise PolicyError(f"{where}.reason", f"placeholder {{{n}...}}: write it plain, {{{n}}} "
                                                  "(no format spec or conversion: values are shown as they are)")
        if n == "":
            raise PolicyError(f"{where}.reason", "a placeholder names a variable: {name}, not {}")
    names = tuple(n for _, n, _, _ in parts if n)
    for n in names:
        if n not in variables:
            raise PolicyError(f"{where}.reason", f"placeholder {{{n}}} is not a declared variable")
    interventions = item.get("interventions") or []
    if not isinstance(interventions, list) or any(i not in INTERVENTIONS for i in interventions):
        raise PolicyError(f"{where}.interventions", f"a list of {', '.join(INTERVENTIONS)}")
    fraud_type = item.get("fraud_type")
    if fraud_type is not None and fraud_type not in FRAUD_TYPES:
        raise PolicyError(f"{where}.fraud_type", f"one of {', '.join(FRAUD_TYPES)}")
    calls = any(i in CALLS for i in interventions)
    release = item.get("release", "result" if calls else "delay")
    if release == "result" and not calls:
        raise PolicyError(f"{where}.release", f"result waits for a call's answer: name one of {', '.join(CALLS)}")
    if release not in RELEASES:
        raise PolicyError(f"{where}.release", "result (the delay waits for the interventions' answer, then a "
                                              "person) or delay (it ends with the delay)")
    delay_ms = None
    if "delay" in item:
        delay_ms = parse_duration_ms(item["delay"], f"{where}.delay")
    elif outcome == Outcome.DELAY:
        raise PolicyError(f"{where}.delay", "a rule with outcome delay says how long, e.g. delay: 24h")
    return Rule(code, condition, outcome, score, reason, names, tuple(interventions), fraud_type, delay_ms, release)


def _outcome(value: Any, where: str) -> Outcome:
    try:
        return Outcome.parse(value)
    except ValueError as exc:
        raise PolicyError(where, str(exc)) from None


def _required(item: dict, key: str, where: str) -> Any:
    if key not in item or item[key] is None:
        raise PolicyError(f"{where}.{key}", "is required")
    return item[key]


def _no_unknown(item: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise PolicyError(f"{where}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
