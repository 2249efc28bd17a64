"""The shape of the code, kept: no import cycles, the lock owned by live/, the walk's modules short.

The layers themselves (edge → app → flows → live → domain → store, state, core) are the
import-linter contract in pyproject.toml, which `make test` runs before pytest; these are the
rules it cannot state.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tianwang"


def cycles(graph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


@pytest.mark.parametrize("type_only", [False, True], ids=["imports-that-run", "type-only-imports-too"])
def test_no_module_imports_itself_round_a_circle(type_only):
    """Counted over every import in src/ (top-level and inside functions), with and without the
    imports made only for type checkers."""
    graph = grimp.build_graph("tianwang", include_external_packages=False, exclude_type_checking_imports=not type_only,
                              cache_dir=None)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, m):
            return self.edges.get(m, set())

    assert cycles(Graph()) == [["a", "b", "c"]]


def test_the_lock_is_named_only_inside_live():
    """Everyone else says `live.locked()` or `live.quiesced()`."""
    outside = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if p.parent.name != "live" and re.search(r"walk_lock|live\._lock\b", p.read_text())]
    assert outside == []


@pytest.mark.parametrize("package", ["ingest", "live", "app"])
def test_the_walk_and_the_live_state_are_in_short_modules(package):
    long = {p.name: n for p in (SRC / package).glob("*.py") if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}
