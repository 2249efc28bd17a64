"""A bundle's variables, and what a set of needed variables depends on.

Owns `VariableSet`: every declaration of a bundle by name (a name declared in two files is
an error), the expressions compiled on demand and cached (`expr` variables against the
declared names, `where` filters against event fields), and `closure`, which orders what a
strategy needs after what it reads, naming the variable of any cycle or unknown reference.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from tianwang.decision.expr import Expr, ExprError, compile_expr
from tianwang.errors import PolicyError
from tianwang.events import RECORD_FIELDS
from tianwang.variables.definitions import ExprVar, VariableDef, WindowVar, parse_variables


class VariableSet:
    """All variable declarations of one bundle."""

    def __init__(self, defs: Iterable[VariableDef] = ()):
        self._defs: dict[str, VariableDef] = {}
        self._names: frozenset[str] | None = None
        self._exprs: dict[str, Expr] = {}  # expr variable name → compiled
        self._filters: dict[str, Expr] = {}  # where / ratio_where source → compiled
        for d in defs:
            self._put(d)

    @classmethod
    def from_files(cls, files: Mapping[str, Any]) -> VariableSet:
        """`{source: the file's variables list}` → one set; a name in two files is an error."""
        varset = cls()
        for source, items in files.items():
            varset.add(items, source=source)
        return varset

    def add(self, items: Any, *, source: str) -> None:
        """Parse one file's `variables:` list into this set."""
        for d in parse_variables(items, source=source).values():
            self._put(d)

    def _put(self, d: VariableDef) -> None:
        other = self._defs.get(d.name)
        if other is not None:
            raise PolicyError(f"{d.origin}.name", f"'{d.name}' is already declared in {other.origin}")
        self._defs[d.name] = d
        self._names = None

    def __getitem__(self, name: str) -> VariableDef:
        return self._defs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def __len__(self) -> int:
        return len(self._defs)

    def __iter__(self):
        return iter(self._defs.values())

    @property
    def names(self) -> frozenset[str]:
        """Every declared name: what rules and `expr` variables may read."""
        if self._names is None:
            self._names = frozenset(self._defs)
        return self._names

    def expr_of(self, name: str) -> Expr:
        """The compiled expression of `expr` variable `name` (compiled once)."""
        expr = self._exprs.get(name)
        if expr is None:
            d = self._defs[name]
            assert isinstance(d, ExprVar)
            expr = self._exprs[name] = _compile(d.expr, self.names, f"{d.origin}.expr")
        return expr

    def filter_of(self, source: str, where: str) -> Expr:
        """A compiled filter over event fields (`where`, `ratio_where`); `where` names it in errors."""
        expr = self._filters.get(source)
        if expr is None:
            expr = self._filters[source] = _compile(source, RECORD_FIELDS, where)
        return expr

    def deps(self, name: str) -> frozenset[str]:
        """The variables `name` reads directly."""
        d = self._defs[name]
        return self.expr_of(name).names if isinstance(d, ExprVar) else frozenset()

    def closure(self, needed: Iterable[str]) -> list[str]:
        """`needed` and everything they read, each after what it reads."""
        order: list[str] = []
        done: set[str] = set()
        for root in needed:
            if root not in self._defs:
                raise PolicyError("", f"unknown variable '{root}'")
            if root not in done:
                self._visit(root, order, done)
        return order

    def _visit(self, root: str, order: list[str], done: set[str]) -> None:
        # Iterative depth-first search: a 100,000-long chain of expr variables must not hit the recursion limit.
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(sorted(self.deps(root)))]
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                stack.pop()
                name = path.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
            elif dep in on_path:
                cycle = " -> ".join(path[path.index(dep):] + [dep])
                raise PolicyError(f"{self._defs[dep].origin}.expr", f"'{dep}' depends on itself: {cycle}")
            elif dep not in done:
                path.append(dep)
                on_path.add(dep)
                stack.append(iter(sorted(self.deps(dep))))

    def validate_all(self) -> None:
        """Compile every expression and check every dependency (what `policy validate` needs)."""
        for d in self._defs.values():
            if isinstance(d, WindowVar):
                if d.where is not None:
                    self.filter_of(d.where, f"{d.origin}.where")
                if d.ratio_where is not None:
                    self.filter_of(d.ratio_where, f"{d.origin}.ratio_where")
        self.closure(self._defs)


def _compile(source: str, names: frozenset[str] | None, where: str) -> Expr:
    try:
        return compile_expr(source, names=names)
    except ExprError as exc:
        raise PolicyError(where, str(exc)) from None


_CANONICAL: dict[str, str] = {}


def canonical_expr(source: str) -> str:
    """The same text for the same expression however it is spaced or bracketed (stream identity)."""
    text = _CANONICAL.get(source)
    if text is None:
        try:
            text = ast.unparse(ast.parse("(" + source + "\n)", mode="eval"))
        except (SyntaxError, ValueError, RecursionError):
            text = source.strip()
        _CANONICAL[source] = text
    return text
