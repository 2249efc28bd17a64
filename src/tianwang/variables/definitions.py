"""Variable declarations: parse and validate what a bundle's `variables/*.yaml` declare.

Owns the five kinds of docs/policy.md (field, window, list, network, expr) as frozen dataclasses,
their YAML keys and limits, and the messages an analyst reads when a declaration is wrong.
Expressions are *not* compiled here: a bundle may declare 100,000 variables and a decision
compiles only what its strategy needs (`VariableSet` in varset.py compiles on demand).
"""

from __future__ import annotations

import difflib

import math
import re
from dataclasses import dataclass
from typing import Any, Union

from tianwang.durations import UNIT_MS
from tianwang.errors import PolicyError
from tianwang.events import RECORD_FIELDS, SCENES
from tianwang.network.measures import MEASURES

NAME = re.compile(r"[a-z][a-z0-9_]{0,79}\Z")
# An event field of the normalised event, or an extra attribute the sender added.
FIELD = re.compile(r"(?:[a-z_][a-z0-9_]{0,63}|attributes\.[A-Za-z_][A-Za-z0-9_]{0,63})\Z")
_WINDOW = re.compile(r"([1-9][0-9]{0,6})([mhd])\Z")
MIN_WINDOW_MS = 60_000
MAX_WINDOW_MS = 90 * 86_400_000

# agg → whether it needs `of` (the table in docs/policy.md)
AGGS = {
    "count": False, "sum": True, "avg": True, "min": True, "max": True, "distinct": True,
    "first_seen": False, "last_seen": False, "last": True, "ratio": False,
}
LIST_TYPES = ("black", "grey", "white")
KINDS = ("field", "window", "list", "network", "expr")
_COMMON = frozenset({"name", "kind", "description"})
VARIABLE_KEYS = {  # kind → the keys its declaration accepts
    "field": _COMMON | {"field", "default"},
    "window": _COMMON | {"scene", "by", "window", "agg", "of", "where", "ratio_where", "include_current"},
    "list": _COMMON | {"list", "entity"},
    "network": _COMMON | {"measure"},
    "expr": _COMMON | {"expr"},
}
_SCENES = frozenset(SCENES)


@dataclass(frozen=True, slots=True)
class FieldVar:
    name: str
    field: str
    default: Any
    description: str
    origin: str  # "variables/x.yaml: variables[3]", for messages found later (at plan time)
    kind = "field"


@dataclass(frozen=True, slots=True)
class WindowVar:
    name: str
    scenes: tuple[str, ...]  # sorted, unique
    by: tuple[str, ...]  # as declared (the stream sorts them)
    window_ms: int
    agg: str
    of: str | None
    where: str | None
    ratio_where: str | None
    include_current: bool
    description: str
    origin: str
    kind = "window"


@dataclass(frozen=True, slots=True)
class ListVar:
    name: str
    list_type: str
    entity: tuple[str, ...]
    description: str
    origin: str
    kind = "list"


@dataclass(frozen=True, slots=True)
class NetworkVar:
    """A ring / network measure of the event's customer (network.measures.MEASURES), after the
    event's own links are in."""

    name: str
    measure: str
    description: str
    origin: str
    kind = "network"


@dataclass(frozen=True, slots=True)
class ExprVar:
    name: str
    expr: str
    description: str
    origin: str
    kind = "expr"


VariableDef = Union[FieldVar, WindowVar, ListVar, NetworkVar, ExprVar]


def parse_variables(items: Any, *, source: str) -> dict[str, VariableDef]:
    """Parse one file's `variables:` list into declarations by name; raise PolicyError on the first fault."""
    if not isinstance(items, list):
        raise PolicyError(f"{source}: variables", "must be a list of variable declarations")
    out: dict[str, VariableDef] = {}
    for i, item in enumerate(items):
        origin = f"{source}: variables[{i}]"
        var = parse_one(item, origin)
        if var.name in out:
            raise PolicyError(f"{origin}.name", f"'{var.name}' is declared twice (also {out[var.name].origin})")
        out[var.name] = var
    return out


def parse_one(item: Any, origin: str) -> VariableDef:
    """One declaration (a mapping from YAML) → its dataclass."""
    if not isinstance(item, dict):
        raise PolicyError(origin, "a variable declaration must be a mapping")
    kind = item.get("kind")
    if kind not in VARIABLE_KEYS:
        raise PolicyError(f"{origin}.kind", f"{'is required' if kind is None else f'unknown kind {kind!r}'}; one of {', '.join(KINDS)}")
    unknown = item.keys() - VARIABLE_KEYS[kind]
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise PolicyError(f"{origin}.{key}", f"unknown key for a {kind} variable; allowed: {', '.join(sorted(VARIABLE_KEYS[kind]))}")
    name = item.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise PolicyError(f"{origin}.name", "is required: lower-case letters, digits and _, starting with a letter, at most 80")
    description = item.get("description")
    if not isinstance(description, str) or not description.strip():
        raise PolicyError(f"{origin}.description", "is required: a sentence an investigator can read")
    return _PARSERS[kind](item, origin, name, description)


def _field(item: dict, origin: str, name: str, description: str) -> FieldVar:
    field = _field_name(item.get("field"), f"{origin}.field")
    default = item.get("default")
    if not _plain(default):
        raise PolicyError(f"{origin}.default", "must be a number, text, true/false, null or a list of those")
    return FieldVar(name, field, default, description, origin)


def _window(item: dict, origin: str, name: str, description: str) -> WindowVar:
    scenes = _names(item.get("scene"), f"{origin}.scene", "scene")
    for scene in scenes:
        if scene not in _SCENES:
            raise PolicyError(f"{origin}.scene", f"unknown scene {scene!r}; one of {', '.join(SCENES)}")
    by = _names(item.get("by"), f"{origin}.by", "field")
    for f in by:
        _field_name(f, f"{origin}.by")
    window_ms = parse_window(item.get("window"), f"{origin}.window")
    agg = item.get("agg")
    if agg not in AGGS:
        raise PolicyError(f"{origin}.agg", f"{'is required' if agg is None else f'unknown agg {agg!r}'}; one of {', '.join(AGGS)}")
    of = item.get("of")
    if AGGS[agg]:
        of = _field_name(of, f"{origin}.of", f"is required for agg {agg}: the field aggregated")
    elif of is not None:
        raise PolicyError(f"{origin}.of", f"agg {agg} does not aggregate a field; remove `of`")
    where = _expr_text(item.get("where"), f"{origin}.where", required=False)
    ratio_where = _expr_text(item.get("ratio_where"), f"{origin}.ratio_where", required=agg == "ratio")
    if ratio_where is not None and agg != "ratio":
        raise PolicyError(f"{origin}.ratio_where", "is only used by agg ratio")
    include_current = item.get("include_current", False)
    if type(include_current) is not bool:
        raise PolicyError(f"{origin}.include_current", "must be true or false")
    return WindowVar(name, tuple(sorted(set(scenes))), by, window_ms, agg, of, where, ratio_where,
                     include_current, description, origin)


def _list(item: dict, origin: str, name: str, description: str) -> ListVar:
    list_type = item.get("list")
    if list_type not in LIST_TYPES:
        raise PolicyError(f"{origin}.list", f"must be one of {', '.join(LIST_TYPES)}")
    entity = _names(item.get("entity"), f"{origin}.entity", "field")
    for f in entity:
        _field_name(f, f"{origin}.entity")
    return ListVar(name, list_type, entity, description, origin)


def _network(item: dict, origin: str, name: str, description: str) -> NetworkVar:
    measure = item.get("measure")
    if measure is None:
        raise PolicyError(f"{origin}.measure", "is required: a ring or network measure (the table in docs/policy.md)")
    if not isinstance(measure, str) or measure not in MEASURES:
        close = difflib.get_close_matches(str(measure), MEASURES, n=3)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else " (the table in docs/policy.md lists them)"
        raise PolicyError(f"{origin}.measure", f"unknown measure {measure!r}{hint}")
    return NetworkVar(name, measure, description, origin)


def _expr(item: dict, origin: str, name: str, description: str) -> ExprVar:
    return ExprVar(name, _expr_text(item.get("expr"), f"{origin}.expr", required=True), description, origin)


_PARSERS = {"field": _field, "window": _window, "list": _list, "network": _network, "expr": _expr}
_WINDOWS: dict[str, int] = {}  # '1h' → ms; 100k declarations use a handful of distinct windows


def parse_window(text: Any, where: str) -> int:
    """'<n>m', '<n>h' or '<n>d' within 1m..90d → milliseconds."""
    ms = _WINDOWS.get(text) if isinstance(text, str) else None
    if ms is not None:
        return ms
    m = _WINDOW.match(text) if isinstance(text, str) else None
    if not m:
        raise PolicyError(where, f"{text!r} is not a window like 10m, 1h or 30d")
    ms = int(m.group(1)) * UNIT_MS[m.group(2)]
    if not MIN_WINDOW_MS <= ms <= MAX_WINDOW_MS:
        raise PolicyError(where, f"{text} is outside 1m .. 90d")
    _WINDOWS[text] = ms
    return ms


def _names(value: Any, where: str, what: str) -> tuple[str, ...]:
    """A name or a non-empty list of distinct names → a tuple."""
    values = value if isinstance(value, list) else [value]
    if not values or value is None:
        raise PolicyError(where, f"is required: a {what} or a list of {what}s")
    if not all(isinstance(v, str) for v in values):
        raise PolicyError(where, f"must be a {what} or a list of {what}s")
    if len(set(values)) != len(values):
        raise PolicyError(where, f"lists the same {what} twice")
    return tuple(values)


def _field_name(value: Any, where: str, missing: str = "is required: an event field") -> str:
    if value is None:
        raise PolicyError(where, missing)
    if not isinstance(value, str) or not FIELD.match(value):
        raise PolicyError(where, f"{value!r} is not an event field (a field name, or attributes.NAME)")
    if not value.startswith("attributes.") and value not in RECORD_FIELDS:
        # A misspelt field would give empty windows forever; say so when the policy is validated.
        close = difflib.get_close_matches(value, RECORD_FIELDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see docs/policy.md; extra attributes are attributes.NAME)"
        raise PolicyError(where, f"{value!r} is not a field events carry{hint}")
    return value


def _expr_text(value: Any, where: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(where, "is required: an expression" if value is None else "must be an expression in quotes")
    return value


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON-like and finite: what a variable's value may be."""
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list and depth == 0:
        return all(_plain(v, 1) for v in value)
    return False
