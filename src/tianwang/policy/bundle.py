"""Policy bundles: read a folder of YAML, validate every part, compile it once.

A `Bundle` is what the walk decides with: the variable set, the active and shadow
strategy of each scene, one compiled variable plan per strategy, the union of the
window streams those plans read (what every event updates), and the reverse triggers
(`reverse:`, decision/triggers.py) with the plan of the ring measures they read, and the
collection rules (`collect:`, collect/rules.py) that name captured client events. Files are kept as text so a
version can be stored, diffed and published again exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from tianwang.collect.rules import CollectRule, parse_rules
from tianwang.decision.strategy import Strategy, parse_strategies
from tianwang.decision.triggers import Trigger, check_ring_only, parse_triggers
from tianwang.errors import PolicyError
from tianwang.variables.compiler import Plan, compile_plan
from tianwang.variables.streams import StreamSet
from tianwang.variables.varset import VariableSet

MAX_FILES = 2000
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
POLICY_KEYS = {"name", "description", "timezone"}
FILE_KEYS = {"variables", "strategies", "reverse", "collect"}  # the lists any other file may hold
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Bundle:
    name: str
    description: str
    timezone: ZoneInfo
    files: dict[str, str]
    checksum: str
    variables: VariableSet
    strategies: list[Strategy]
    active: dict[str, Strategy] = field(default_factory=dict)
    shadows: dict[str, list[Strategy]] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    streams: StreamSet | None = None
    triggers: tuple[Trigger, ...] = ()
    trigger_plan: Plan | None = None
    collect_rules: tuple[CollectRule, ...] = ()

    def strategies_for(self, scene: str) -> list[Strategy]:
        """The active strategy of a scene (if any) and its shadows."""
        active = self.active.get(scene)
        return ([active] if active else []) + self.shadows.get(scene, [])

    def summary(self) -> dict[str, Any]:
        """Counts an analyst checks after validate: variables by kind, rules by scene."""
        kinds: dict[str, int] = {}
        for d in self.variables:
            kinds[d.kind] = kinds.get(d.kind, 0) + 1
        return {
            "name": self.name,
            "checksum": self.checksum[:12],
            "variables": len(self.variables),
            "variables_by_kind": dict(sorted(kinds.items())),
            "strategies": len(self.strategies),
            "rules": sum(len(s.rules) for s in self.strategies),
            "rules_by_scene": {s.scene: len(s.rules) for s in self.strategies if s.mode == "active"},
            "variables_computed": len({n for p in self.plans.values() for n in p.names}),
            "streams": len(self.streams) if self.streams is not None else 0,
            "reverse_triggers": len(self.triggers),
            "collect_rules": len(self.collect_rules),
        }


def read_files(folder: Path) -> dict[str, str]:
    """Every .yaml/.yml file under `folder`, by path relative to it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PolicyError(str(folder), "is not a folder")
    files: dict[str, str] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PolicyError(rel, "is not UTF-8 text") from None
        total += len(text)
        if len(files) >= MAX_FILES or total > MAX_BUNDLE_BYTES:
            raise PolicyError(rel, f"bundle too large (at most {MAX_FILES} files, {MAX_BUNDLE_BYTES} bytes)")
        files[rel] = text
    if "policy.yaml" not in files:
        raise PolicyError(str(folder), "has no policy.yaml")
    return files


def checksum(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def compile_bundle(files: dict[str, str]) -> Bundle:
    """Validate and compile a bundle's files; raise PolicyError naming the file and key."""
    docs = {rel: _load_yaml(rel, text) for rel, text in files.items()}
    head = docs.get("policy.yaml")
    if not isinstance(head, dict):
        raise PolicyError("policy.yaml", "must be a mapping with at least `name`")
    unknown = sorted(set(head) - POLICY_KEYS)
    if unknown:
        raise PolicyError(f"policy.yaml: {unknown[0]}", f"unknown key; allowed: {', '.join(sorted(POLICY_KEYS))}")
    name = head.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError("policy.yaml: name", "is required")
    try:
        tz = ZoneInfo(str(head.get("timezone", "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError("policy.yaml: timezone", f"unknown timezone {head.get('timezone')!r}") from None

    declared: list[tuple[str, list]] = []
    strategy_docs: list[tuple[str, Any]] = []
    trigger_docs: list[tuple[str, Any]] = []
    collect_rules: list[CollectRule] = []
    for rel, doc in docs.items():
        if rel == "policy.yaml" or doc is None:
            continue
        if not isinstance(doc, dict) or not set(doc) <= FILE_KEYS:
            raise PolicyError(rel, "a policy file holds `variables:`, `strategies:`, `reverse:` and/or `collect:` lists")
        if "collect" in doc:
            collect_rules.extend(parse_rules(doc["collect"], source=rel))
        if "reverse" in doc:
            trigger_docs.append((rel, doc["reverse"]))
        if "variables" in doc:
            if not isinstance(doc["variables"], list):
                raise PolicyError(rel, "`variables` must be a list")
            declared.append((rel, doc["variables"]))
        if "strategies" in doc:
            strategy_docs.append((rel, doc["strategies"]))

    variables = VariableSet()
    for rel, items in declared:
        variables.add(items, source=rel)
    variables.validate_all()  # every expression compiles, used by a strategy or not
    names = variables.names
    strategies: list[Strategy] = []
    for rel, items in strategy_docs:
        strategies.extend(parse_strategies(items, source=rel, variables=names))

    bundle = Bundle(name, str(head.get("description", "")), tz, files, checksum(files), variables, strategies)
    names_seen: set[str] = set()
    for rule in collect_rules:
        if rule.name in names_seen:
            raise PolicyError(f"collect: {rule.name}", "two collection rules have this name")
        names_seen.add(rule.name)
    bundle.collect_rules = tuple(collect_rules)
    seen: set[str] = set()
    for s in strategies:
        if s.name in seen:
            raise PolicyError(s.name, "two strategies have this name")
        seen.add(s.name)
        if s.mode == "active":
            if s.scene in bundle.active:
                raise PolicyError(s.name, f"scene {s.scene} already has the active strategy {bundle.active[s.scene].name}")
            bundle.active[s.scene] = s
        else:
            bundle.shadows.setdefault(s.scene, []).append(s)
    # One stream set for the whole bundle: every event updates the streams any strategy reads.
    bundle.streams = StreamSet.build(variables, {n for s in strategies for n in s.needs})
    for s in strategies:
        bundle.plans[s.name] = compile_plan(variables, s.needs, streams=bundle.streams)
    triggers = [t for rel, items in trigger_docs for t in parse_triggers(items, source=rel, variables=names)]
    codes = [t.code for t in triggers]
    if len(set(codes)) != len(codes):
        raise PolicyError("reverse", f"trigger code {next(c for c in codes if codes.count(c) > 1)} appears twice")
    if triggers:
        needs = {n for t in triggers for n in t.rule.condition.names | set(t.rule.reason_names)}
        closure = variables.closure(sorted(needs))
        check_ring_only(triggers, closure, {n: (variables[n].kind, getattr(variables[n], "measure", None)) for n in closure})
        bundle.triggers = tuple(triggers)
        bundle.trigger_plan = compile_plan(variables, needs)
    return bundle


def load_bundle(folder: Path) -> Bundle:
    return compile_bundle(read_files(folder))


def _load_yaml(rel: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(rel, f"YAML syntax error{at}: {problem}") from None
