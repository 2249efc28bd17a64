"""Declarations: what parses, what is refused (and where the message points), dependencies."""

from __future__ import annotations

import time

import pytest

from tianwang.errors import PolicyError
from tianwang.variables.definitions import ExprVar, FieldVar, ListVar, WindowVar, parse_variables
from tianwang.variables.varset import VariableSet
from tests.variables.support import decl, varset_of, window

SRC = "variables/test.yaml"


def test_each_kind_parses():
    got = parse_variables([
        decl("amount", "field", field="amount", default=0),
        decl("score", "field", field="attributes.score"),
        window("cnt", scene=["login", "apply", "login"][:2], by=["device_id", "customer_id"], window="90d",
               agg="sum", of="amount", where="amount > 1", include_current=True),
        window("ratio", agg="ratio", ratio_where="amount > 1", window="1m"),
        decl("black", "list", list="black", entity=["device_id", "ip"]),
        decl("share", "expr", expr="amount / 2"),
    ], source=SRC)
    assert got["amount"] == FieldVar("amount", "amount", 0, "test variable amount", f"{SRC}: variables[0]")
    assert got["score"].default is None
    w = got["cnt"]
    assert isinstance(w, WindowVar)
    assert (w.scenes, w.by, w.window_ms, w.agg, w.of, w.include_current) == (
        ("apply", "login"), ("device_id", "customer_id"), 90 * 86_400_000, "sum", "amount", True)
    assert got["ratio"].window_ms == 60_000 and got["ratio"].ratio_where == "amount > 1"
    assert got["black"] == ListVar("black", "black", ("device_id", "ip"), "test variable black", f"{SRC}: variables[4]")
    assert isinstance(got["share"], ExprVar) and got["share"].kind == "expr"


@pytest.mark.parametrize("text, ms", [("1m", 60_000), ("90d", 7_776_000_000), ("2160h", 7_776_000_000),
                                      ("129600m", 7_776_000_000), ("36h", 129_600_000)])
def test_window_lengths(text, ms):
    assert parse_variables([window("w", window=text)], source=SRC)["w"].window_ms == ms


BAD = [
    ("not a mapping", "x", "", "must be a mapping"),
    ("no kind", {"name": "a", "description": "d"}, ".kind", "is required"),
    ("unknown kind", decl("a", "windw"), ".kind", "unknown kind 'windw'"),
    ("unknown key", window("a", windw="1h"), ".windw", "unknown key"),
    ("key of another kind", decl("a", "field", field="amount", agg="count"), ".agg", "unknown key"),
    ("upper-case name", decl("Amount", "field", field="amount"), ".name", "lower-case"),
    ("name starts with a digit", decl("1a", "field", field="amount"), ".name", "lower-case"),
    ("name too long", decl("a" * 81, "field", field="amount"), ".name", "at most 80"),
    ("no name", {"kind": "field", "field": "amount", "description": "d"}, ".name", "is required"),
    ("no description", {"name": "a", "kind": "field", "field": "amount"}, ".description", "is required"),
    ("blank description", {**decl("a", "field", field="amount"), "description": " "}, ".description", "is required"),
    ("field missing", decl("a", "field"), ".field", "is required"),
    ("field not a name", decl("a", "field", field="Amount"), ".field", "not an event field"),
    ("field path", decl("a", "field", field="gps.lat"), ".field", "not an event field"),
    ("default a mapping", decl("a", "field", field="amount", default={"x": 1}), ".default", "must be"),
    ("default NaN", decl("a", "field", field="amount", default=float("nan")), ".default", "must be"),
    ("no scene", {**window("a"), "scene": None}, ".scene", "is required"),
    ("unknown scene", window("a", scene=["apply", "loan"]), ".scene", "unknown scene 'loan'"),
    ("no by", {**window("a"), "by": None}, ".by", "is required"),
    ("empty by", window("a", by=[]), ".by", "is required"),
    ("by twice", window("a", by=["ip", "ip"]), ".by", "twice"),
    ("by not a field", window("a", by=["ip", "a-b"]), ".by", "not an event field"),
    ("no window", {**window("a"), "window": None}, ".window", "not a window"),
    ("window in seconds", window("a", window="30s"), ".window", "not a window"),
    ("window a number", window("a", window=60), ".window", "not a window"),
    ("window zero", window("a", window="0m"), ".window", "not a window"),
    ("window in weeks", window("a", window="1w"), ".window", "not a window"),
    ("window too long", window("a", window="91d"), ".window", "outside 1m .. 90d"),
    ("window just too long", window("a", window="129601m"), ".window", "outside"),
    ("no agg", {**window("a"), "agg": None}, ".agg", "is required"),
    ("unknown agg", window("a", agg="median", of="amount"), ".agg", "unknown agg 'median'"),
    ("sum without of", window("a", agg="sum"), ".of", "is required for agg sum"),
    ("count with of", window("a", agg="count", of="amount"), ".of", "does not aggregate"),
    ("of not a field", window("a", agg="max", of="amount + 1"), ".of", "not an event field"),
    ("ratio without ratio_where", window("a", agg="ratio"), ".ratio_where", "is required"),
    ("ratio_where on count", window("a", ratio_where="amount > 1"), ".ratio_where", "only used by agg ratio"),
    ("empty where", window("a", where=" "), ".where", "expression"),
    ("where not text", window("a", where=5), ".where", "expression"),
    ("include_current not bool", window("a", include_current="yes"), ".include_current", "true or false"),
    ("unknown list", decl("a", "list", list="red", entity="ip"), ".list", "black, grey, white"),
    ("no entity", decl("a", "list", list="black"), ".entity", "is required"),
    ("no expr", decl("a", "expr"), ".expr", "is required"),
]


@pytest.mark.parametrize("item, suffix, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_declarations_name_the_key(item, suffix, message):
    with pytest.raises(PolicyError) as exc:
        parse_variables([decl("ok", "field", field="amount"), item], source=SRC)
    assert exc.value.where == f"{SRC}: variables[1]{suffix}"
    assert message in exc.value.message


def test_variables_must_be_a_list():
    with pytest.raises(PolicyError, match="must be a list"):
        parse_variables({"a": 1}, source=SRC)


def test_duplicates_in_one_file_and_across_files():
    with pytest.raises(PolicyError, match=r"declared twice \(also variables/test.yaml: variables\[0\]\)"):
        parse_variables([decl("a", "field", field="amount")] * 2, source=SRC)
    with pytest.raises(PolicyError) as exc:
        VariableSet.from_files({"v/a.yaml": [decl("a", "field", field="amount")],
                                "v/b.yaml": [decl("b", "field", field="ip"), decl("a", "field", field="ip")]})
    assert exc.value.where == "v/b.yaml: variables[1].name" and "already declared in v/a.yaml: variables[0]" in exc.value.message


def test_closure_orders_dependencies_first():
    vs = varset_of(decl("a", "field", field="amount"), window("w"), decl("b", "expr", expr="a + w"),
                   decl("c", "expr", expr="b * 2 + a"), decl("unused", "expr", expr="c"))
    order = vs.closure(["c"])
    assert set(order) == {"a", "w", "b", "c"}
    assert order.index("b") > max(order.index("a"), order.index("w")) and order[-1] == "c"
    assert vs.closure(["w", "w"]) == ["w"]


@pytest.mark.parametrize("items, where, message", [
    ([decl("a", "expr", expr="a + 1")], "variables[0].expr", "'a' depends on itself: a -> a"),
    ([decl("a", "expr", expr="b"), decl("b", "expr", expr="c"), decl("c", "expr", expr="a")],
     ".expr", "depends on itself"),
    ([decl("a", "expr", expr="nope + 1")], "variables[0].expr", "unknown name 'nope'"),
    ([decl("a", "expr", expr="1 +")], "variables[0].expr", "syntax error"),
])
def test_closure_errors_name_the_variable(items, where, message):
    vs = varset_of(*items)
    with pytest.raises(PolicyError) as exc:
        vs.closure(["a"])
    assert exc.value.where.endswith(where) and message in exc.value.message


def test_unknown_needed_variable():
    with pytest.raises(PolicyError, match="unknown variable 'ghost'"):
        varset_of(window("w")).closure(["ghost"])


def test_a_long_chain_does_not_recurse():
    items = [decl("v0", "field", field="amount")] + [decl(f"v{i}", "expr", expr=f"v{i - 1} + 1") for i in range(1, 5000)]
    assert varset_of(*items).closure(["v4999"])[-3:] == ["v4997", "v4998", "v4999"]


def test_validate_all_finds_what_closure_was_not_asked_about():
    vs = varset_of(window("ok"), window("bad", where="amount >"), decl("e", "expr", expr="ok + 1"))
    assert vs.closure(["e"]) == ["ok", "e"]  # lazily: the bad filter was not compiled
    with pytest.raises(PolicyError) as exc:
        vs.validate_all()
    assert exc.value.where == f"{SRC}: variables[1].where"


def test_100k_declarations_parse_in_seconds():
    items = [window(f"v{i}", scene=["apply", "drawdown"][: 1 + i % 2], by=["device_id", "ip", "customer_id"][i % 3],
                    window=f"{1 + i % 90}d", agg=("count", "sum", "max")[i % 3],
                    **({"of": "amount"} if i % 3 else {}), where="amount >= 100" if i % 5 == 0 else None)
             for i in range(100_000)]
    for it in items:
        if it["where"] is None:
            del it["where"]
    start = time.perf_counter()
    vs = VariableSet.from_files({"variables/big.yaml": items})
    elapsed = time.perf_counter() - start
    assert len(vs) == 100_000
    assert elapsed < 3.0, f"parsing 100k declarations took {elapsed:.2f}s"
