"""CSS selectors matched against captured elements, without a page (collection rules, 无感知埋点).

The SDK sends, with each captured click, input or submit, the element's **path** from the root
(`html > body > form#apply > div:nth-of-type(2) > input.wide`), its tag, id, name, classes and
input type. A collection rule's selector (`form#apply input[name=id_number]`) is parsed once
with cssselect and matched right to left along that path.

What a path can tell is what can be matched: type, `#id`, `.class`, `[attr]` with every
operator (attributes known: id, class, name, type — name and type on the element itself),
`:nth-of-type(n)` (a number, `odd`, `even`, `an+b`), `:first-of-type`, `:not(…)`, the
descendant (` `) and child (`>`) combinators, and lists (`a, b`). Siblings (`+`, `~`), states
(`:hover`, `:checked` …) and `:nth-child` are not in a path: `compile_selector` refuses them
with the reason, rather than a selector that silently matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import cssselect
from cssselect import parser as P

MAX_SELECTOR = 512
_STEP = re.compile(r"^(?P<tag>[A-Za-z][A-Za-z0-9-]*|\*)?(?P<rest>.*)$")


class SelectorError(ValueError):
    """A selector that cannot be parsed, or names what a captured path cannot tell."""


@dataclass(frozen=True)
class Step:
    """One element of a captured path."""

    tag: str
    id: str | None = None
    classes: frozenset[str] = frozenset()
    nth: int | None = None  # its position among siblings of its type, when the path says
    attrs: dict[str, str] = field(default_factory=dict)  # name, type: on the captured element only


Matcher = Callable[[list[Step], int], bool]


@dataclass(frozen=True)
class Selector:
    text: str
    _match: Matcher

    def matches(self, path: list[Step]) -> bool:
        return bool(path) and self._match(path, len(path) - 1)


def compile_selector(text: str) -> Selector:
    """Parse `text` into a matcher; SelectorError says what is wrong or unsupported."""
    if not isinstance(text, str) or not text.strip():
        raise SelectorError("a selector is a non-empty string")
    if len(text) > MAX_SELECTOR:
        raise SelectorError(f"longer than {MAX_SELECTOR} characters")
    try:
        parsed = cssselect.parse(text)
    except P.SelectorSyntaxError as exc:
        raise SelectorError(f"not a CSS selector: {exc}") from None
    matchers = []
    for sel in parsed:
        if sel.pseudo_element:
            raise SelectorError(f"pseudo-element ::{sel.pseudo_element} is not an element a click or input happens on")
        matchers.append(_compile(sel.parsed_tree))
    return Selector(text, lambda path, i: any(m(path, i) for m in matchers))


def parse_path(path: str, *, tag: str | None = None, id: str | None = None, name: str | None = None,
               input_type: str | None = None, classes: list[str] | None = None) -> list[Step]:
    """The steps of a captured path (`a > b#x > c.y:nth-of-type(2)`, the last step may carry
    `[name="…"][type="…"]`); the element's own tag, id, name, type and classes, when sent beside
    the path, complete its last step."""
    steps: list[Step] = []
    for raw in [p.strip() for p in _split(path or "")]:
        m = _STEP.match(raw)
        step_tag, rest = (m.group("tag") or "*").lower(), m.group("rest")
        attrs = {k: v for k, v in _ATTR.findall(rest)}
        rest = _ATTR.sub("", rest)
        step_id = None
        cls: set[str] = set()
        nth = None
        for kind, value in re.findall(r"(#|\.|:nth-of-type\()([^#.:()\[]+)\)?", rest):
            if kind == "#":
                step_id = value
            elif kind == ".":
                cls.add(value)
            elif value.isascii() and value.isdigit():
                nth = int(value)
        steps.append(Step(step_tag, step_id, frozenset(cls), nth, attrs))
    attrs = {k: v for k, v in (("name", name), ("type", input_type)) if v}
    if tag or attrs or id or classes:
        last = steps.pop() if steps else Step((tag or "*").lower())
        steps.append(Step((tag or last.tag).lower(), id or last.id, last.classes | frozenset(classes or ()), last.nth,
                          {**last.attrs, **attrs}))
    return steps


def format_path(steps: list[Step]) -> str:
    """A path as text that `parse_path` reads back to the same steps (what a stored event keeps)."""
    out = []
    for st in steps:
        text = st.tag + (f"#{st.id}" if st.id else "") + "".join(f".{c}" for c in sorted(st.classes))
        text += f":nth-of-type({st.nth})" if st.nth is not None else ""
        text += "".join(f'[{k}="{v}"]' for k, v in sorted(st.attrs.items()))
        out.append(text)
    return " > ".join(out)


_ATTR = re.compile(r'\[(name|type)="([^"\]]*)"\]')


def _split(path: str) -> list[str]:
    """A path's steps: split on `>` outside quoted attribute values."""
    parts, depth, current = [], False, []
    for ch in path:
        if ch == '"':
            depth = not depth
        if ch == ">" and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


# ------------------------------------------------------------------------------------ compiling


def _compile(node: Any) -> Matcher:
    kind = type(node).__name__
    if kind == "Element":
        tag = (node.element or "*").lower()
        return (lambda path, i: True) if tag == "*" else (lambda path, i: path[i].tag == tag)
    if kind == "Hash":
        inner, ident = _compile(node.selector), node.id
        return lambda path, i: path[i].id == ident and inner(path, i)
    if kind == "Class":
        inner, name = _compile(node.selector), node.class_name
        return lambda path, i: name in path[i].classes and inner(path, i)
    if kind == "Attrib":
        return _attrib(node)
    if kind == "Negation":
        inner, sub = _compile(node.selector), _compile(node.subselector)
        return lambda path, i: inner(path, i) and not sub(path, i)
    if kind == "Function":
        return _function(node)
    if kind == "Pseudo":
        if node.ident == "first-of-type":
            inner = _compile(node.selector)
            return lambda path, i: path[i].nth == 1 and inner(path, i)
        raise SelectorError(f":{node.ident} is a state or position a captured path does not record; "
                            "match on tag, #id, .class, [name=…], [type=…] or :nth-of-type(n)")
    if kind == "CombinedSelector":
        return _combined(node)
    raise SelectorError(f"{kind} selectors are not supported")


def _attrib(node: Any) -> Matcher:
    inner, name, op = _compile(node.selector), node.attrib.lower(), node.operator
    value = None if op == "exists" else node.value.value if hasattr(node.value, "value") else node.value
    if name not in ("id", "class", "name", "type"):
        raise SelectorError(f"[{name}] is not captured; attributes known: id, class, name, type")
    tests = {
        "exists": lambda v: v is not None,
        "=": lambda v: v == value,
        "~=": lambda v: v is not None and value in v.split(),
        "^=": lambda v: v is not None and bool(value) and v.startswith(value),
        "$=": lambda v: v is not None and bool(value) and v.endswith(value),
        "*=": lambda v: v is not None and bool(value) and value in v,
        "|=": lambda v: v is not None and (v == value or v.startswith(value + "-")),
    }
    if op not in tests:
        raise SelectorError(f"attribute operator {op} is not supported")
    test = tests[op]

    def read(step: Step) -> str | None:
        if name == "id":
            return step.id
        if name == "class":
            return " ".join(sorted(step.classes)) or None
        return step.attrs.get(name)

    return lambda path, i: test(read(path[i])) and inner(path, i)


def _function(node: Any) -> Matcher:
    inner = _compile(node.selector)
    if node.name == "nth-of-type":
        a, b = _an_plus_b(node)

        def nth(path: list[Step], i: int) -> bool:
            n = path[i].nth
            if n is None or not inner(path, i):
                return False
            return n == b if a == 0 else (n - b) % a == 0 and (n - b) // a >= 0
        return nth
    raise SelectorError(f":{node.name}() is not recorded in a captured path; :nth-of-type(n) is")


def _an_plus_b(node: Any) -> tuple[int, int]:
    text = "".join(t.value for t in node.arguments if t.type != "S").strip().lower()
    if text == "odd":
        return 2, 1
    if text == "even":
        return 2, 0
    m = re.fullmatch(r"([+-]?\d*)n([+-]\d+)?|([+-]?\d+)", text)
    if not m:
        raise SelectorError(f":nth-of-type({text}) is not n, odd, even or an+b")
    if m.group(3) is not None:
        return 0, int(m.group(3))
    a = m.group(1)
    return (1 if a in ("", "+") else -1 if a == "-" else int(a)), int(m.group(2) or 0)


def _combined(node: Any) -> Matcher:
    left, right, comb = _compile(node.selector), _compile(node.subselector), node.combinator
    if comb == ">":
        return lambda path, i: i > 0 and right(path, i) and left(path, i - 1)
    if comb == " ":
        return lambda path, i: right(path, i) and any(left(path, j) for j in range(i - 1, -1, -1))
    raise SelectorError(f"the {comb!r} combinator needs the element's siblings, which a captured path does not have")
