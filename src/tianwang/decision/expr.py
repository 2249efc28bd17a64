"""The expression language of rules, `expr` variables and `where` filters.

Owns the safe, Python-like subset described in docs/policy.md ("The expression language"):
the source is parsed with `ast`, checked node by node against a whitelist, rewritten (names
become `v["name"]` lookups, `*` and `%` go through bounded helpers) and compiled once into a
plain lambda whose globals hold only the helper functions. Evaluating is then one call of
ordinary bytecode; `evaluate` turns the errors a null or a zero divisor raise into null.
"""

from __future__ import annotations

import ast
import difflib
import io
import math
import tokenize
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 50  # nesting of brackets and of the syntax tree
MAX_NODES = 500
MAX_INT_LITERAL = 10**18
MAX_PRODUCT_BITS = 100  # an int product stays below ~1.3e30
MAX_BUILT = 1_000  # items of a text or list `+` may build: chained expr variables cannot double a value forever
EARTH_RADIUS_KM = 6371.0088
# What a null operand or a zero divisor raises; evaluate() turns them into null.
NULL_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError)


class ExprError(ValueError):
    """An expression that cannot be compiled; `col` is 0-based on its line (None if unknown)."""

    def __init__(self, source: str, message: str, col: int | None = None):
        self.source, self.message, self.col = source, message, col
        super().__init__(message if col is None else f"{message} (column {col + 1})")


@dataclass(frozen=True)
class Expr:
    """A compiled expression: `names` are the variables it reads, `fn(values)` the raw function."""

    source: str
    names: frozenset[str]
    fn: Callable[[Mapping[str, Any]], Any] = field(repr=False, compare=False)

    def __call__(self, values: Mapping[str, Any]) -> Any:
        try:  # evaluate(), inlined: this is the hot path
            return self.fn(values)
        except NULL_ERRORS:
            return None


def evaluate(expr: Expr, values: Mapping[str, Any]) -> Any:
    """The value of `expr` over `values`, or None when it meets a null, a missing name or a zero divisor."""
    try:
        return expr.fn(values)
    except NULL_ERRORS:
        return None


# --- helpers: the only globals a compiled expression can reach ---------------------------

_SEQUENCES = (str, list, tuple, set, frozenset)


def _numbers(a: Any, b: Any) -> None:
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        raise TypeError("two numbers are needed")


def _mul(a: Any, b: Any) -> Any:
    # Numbers only: 'ab' * 10**9 would be repetition, and big ints squared in a chain grow without bound.
    _numbers(a, b)
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_PRODUCT_BITS:
        raise OverflowError("product too large")
    return a * b


def _add(a: Any, b: Any) -> Any:
    # Joining texts or lists is bounded: x = y + y along a chain of variables doubles a value at each
    # step (20 steps: 8 GB). A sum over the bound is null, as an over-large product is.
    out = a + b
    if isinstance(out, _SEQUENCES) and len(out) > MAX_BUILT:
        raise OverflowError(f"a value of more than {MAX_BUILT} items")
    return out


def _mod(a: Any, b: Any) -> Any:
    _numbers(a, b)  # 'str % x' is printf formatting, whose width field can ask for gigabytes
    return a % b


def _round(x: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        return round(x)
    if type(ndigits) is not int or not 0 <= ndigits <= 10:
        raise ValueError("round() digits must be 0..10")
    return round(x, ndigits)


def _len(x: Any) -> int:
    if not isinstance(x, _SEQUENCES):
        raise TypeError("len() of a non-sequence")
    return len(x)


def _coalesce(*thunks: Callable[[], Any]) -> Any:
    # Arguments arrive unevaluated, so a null-raising one (a missing name, a zero divisor) is skipped.
    for thunk in thunks:
        try:
            value = thunk()
        except NULL_ERRORS:
            continue
        if value is not None:
            return value
    return None


def _is_null(thunk: Callable[[], Any]) -> bool:
    try:
        return thunk() is None
    except NULL_ERRORS:
        return True


def _text(s: Any) -> str:
    if not isinstance(s, str):
        raise TypeError("a text is needed")
    return s


def _contains(s: Any, part: Any) -> Any:
    if s is not None and not isinstance(s, _SEQUENCES):
        raise TypeError("contains() needs a text or a list")
    return None if s is None else part in s


def _geo_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    if math.isnan(h):
        raise ValueError("not a coordinate")
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# name: (helper, least args, most args or None); the lazy ones receive argument thunks.
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "abs": (abs, 1, 1), "min": (min, 1, None), "max": (max, 1, None), "round": (_round, 1, 2),
    "len": (_len, 1, 1), "coalesce": (_coalesce, 1, None), "is_null": (_is_null, 1, 1),
    "lower": (lambda s: _text(s).lower(), 1, 1), "upper": (lambda s: _text(s).upper(), 1, 1),
    "startswith": (lambda s, p: _text(s).startswith(_text(p)), 2, 2),
    "endswith": (lambda s, p: _text(s).endswith(_text(p)), 2, 2),
    "contains": (_contains, 2, 2), "geo_km": (_geo_km, 4, 4),
}
_LAZY = {"coalesce", "is_null"}
HELPERS: dict[str, Callable[..., Any]] = {"_mul": _mul, "_mod": _mod, "_add": _add}
HELPERS.update({f"_f_{name}": spec[0] for name, spec in FUNCTIONS.items()})

# --- checking and rewriting --------------------------------------------------------------

_ALLOWED = {
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.FloorDiv, ast.Mod, ast.UnaryOp, ast.USub, ast.UAdd, ast.Not, ast.Compare, ast.Eq, ast.NotEq,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.IfExp, ast.Call,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Set,
}
_WHY = {kind: f"{what} not allowed" for what, kinds in {
    "attribute access (a.b) is": (ast.Attribute,), "indexing and slicing (a[i]) are": (ast.Subscript, ast.Slice),
    "lambda is": (ast.Lambda,), "f-strings are": (ast.JoinedStr, ast.FormattedValue),
    "comprehensions and generators are": (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
    "assignment (:=) is": (ast.NamedExpr,), "unpacking (*x) is": (ast.Starred,), "dict displays are": (ast.Dict,),
    "await and yield are": (ast.Await, ast.Yield, ast.YieldFrom), "the ** operator is": (ast.Pow,),
    "the @ operator is": (ast.MatMult,),
    "bit operators are": (ast.Invert, ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd),
}.items() for kind in kinds}
_NOT_LITERAL = object()


def _char_col(source: str, lineno: int, byte_col: int) -> int | None:
    """ast columns count UTF-8 bytes in the wrapped text; users count characters in their own."""
    lines = source.replace("\r\n", "\n").split("\n")
    if not 1 <= lineno <= len(lines):
        return None
    line = ("(" + lines[0]) if lineno == 1 else lines[lineno - 1]
    col = len(line.encode()[:byte_col].decode("utf-8", "ignore"))
    return max(col - 1, 0) if lineno == 1 else col


def _node_col(source: str, node: ast.AST) -> int | None:
    if isinstance(node, (ast.Attribute, ast.Subscript)):  # point at the '.' or '[', not at `a`
        return _char_col(source, node.value.end_lineno or 0, node.value.end_col_offset or 0)
    col = getattr(node, "col_offset", None)
    return None if col is None else _char_col(source, node.lineno, col)


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if type(value) in (int, float):
            return -value if isinstance(node.op, ast.USub) else value
    return _NOT_LITERAL


class _Rewriter(ast.NodeTransformer):
    """Checks every node against the whitelist while rewriting the tree into safe bytecode."""

    def __init__(self, source: str, known: Collection[str] | None):
        self.source, self.known, self.names = source, known, set()

    def fail(self, node: ast.AST, message: str) -> None:
        raise ExprError(self.source, message, _node_col(self.source, node))

    def visit(self, node: ast.AST, at: ast.AST | None = None) -> Any:
        if type(node) not in _ALLOWED:  # operators carry no position: `at` is their expression
            self.fail(at or node, _WHY.get(type(node), f"{type(node).__name__} is not allowed"))
        return super().visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if type(value) not in (int, float, str, bool, type(None)):
            self.fail(node, f"{type(value).__name__} literals are not allowed")
        if type(value) is int and abs(value) > MAX_INT_LITERAL:
            self.fail(node, "integer literal too large (limit 10**18)")
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id.startswith("_"):
            self.fail(node, f"names starting with '_' are not allowed: {node.id}")
        if self.known is not None and node.id not in self.known:
            self.fail(node, f"unknown name '{node.id}'" + _suggest(node.id, self.known))
        self.names.add(node.id)
        lookup = ast.Subscript(ast.Name("v", ast.Load()), ast.Constant(node.id), ast.Load())
        return ast.copy_location(lookup, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.visit(node.op, node)
        self.generic_visit(node)
        helper = {ast.Mult: "_mul", ast.Mod: "_mod", ast.Add: "_add"}.get(type(node.op))
        if helper is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(helper, ast.Load()), [node.left, node.right], []), node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.visit(node.op, node)
        return self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        lefts = [node.left, *node.comparators]
        for left, op, right in zip(lefts, node.ops, node.comparators):
            if isinstance(op, (ast.Is, ast.IsNot)) and None not in (_literal(left), _literal(right)):
                self.fail(node, "'is' is only allowed with None, as in: x is None")
        self.generic_visit(node)
        for i, (op, right) in enumerate(zip(node.ops, node.comparators)):
            # `x in ('a', 'b')` tests against a frozenset constant built once, here.
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                values = [_literal(e) for e in right.elts]
                if _NOT_LITERAL not in values:
                    node.comparators[i] = ast.copy_location(ast.Constant(frozenset(values)), right)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            if name is None:
                self.fail(node, "only the functions " + ", ".join(FUNCTIONS) + " can be called")
            self.fail(node, f"unknown function '{name}'" + _suggest(name, FUNCTIONS))
        if node.keywords:
            self.fail(node, f"{name}() takes no keyword arguments")
        _, least, most = FUNCTIONS[name]
        if not least <= len(node.args) <= (most or len(node.args)):
            wanted = f"{least}" if least == most else f"{least} to {most}" if most else f"at least {least}"
            self.fail(node, f"{name}() takes {wanted} argument(s), {len(node.args)} given")
        if name == "round" and len(node.args) == 2:
            digits = _literal(node.args[1])
            if digits is not _NOT_LITERAL and (type(digits) is not int or not 0 <= digits <= 10):
                self.fail(node.args[1], "round() digits must be an integer from 0 to 10")
        args = [self.visit(a) for a in node.args]
        if name in _LAZY:  # passed unevaluated, so a null-raising argument can be skipped
            args = [ast.copy_location(ast.Lambda(_arguments(), a), a) for a in args]
        return ast.copy_location(ast.Call(ast.Name(f"_f_{name}", ast.Load()), args, []), node)


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _arguments(*names: str) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in names], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


# --- compiling ------------------------------------------------------------------------------

def _parse(source: str) -> ast.Expression:
    # Wrapped in brackets so that an expression may span lines (YAML block scalars) and be indented.
    wrapped = "(" + source + "\n)"
    try:
        tree = ast.parse(wrapped, mode="eval")
    except SyntaxError as exc:
        line, offset = exc.lineno or 0, exc.offset or 0  # offset: 1-based characters in the wrapped text
        last = source.count("\n") + 1
        col = max(offset - 1 - (line == 1), 0) if line <= last else len(source.split("\n")[-1])
        raise ExprError(source, f"syntax error: {exc.msg}", col) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, hostile nesting
        raise ExprError(source, f"cannot parse: {type(exc).__name__}") from None
    _check_brackets(source, wrapped)
    _check_size(source, tree)
    return tree


def _check_brackets(source: str, wrapped: str) -> None:
    """Brackets leave no trace in the tree, so their nesting is counted on the tokens."""
    depth, closed = 0, 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(wrapped).readline):
            if tok.type != tokenize.OP:
                continue
            depth += (tok.string in "([{") - (tok.string in ")]}")
            col = tok.start[1] - (tok.start[0] == 1)
            if depth > MAX_DEPTH + 1:
                raise ExprError(source, f"brackets nested more than {MAX_DEPTH} deep", col)
            closed += depth == 0
            if closed > 1:  # the source closed the bracket _parse wrapped it in
                raise ExprError(source, "unbalanced bracket", col)
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ExprError(source, f"cannot parse: {exc}") from None


def _check_size(source: str, tree: ast.Expression) -> None:
    # Iterative, so a hostile tree cannot exhaust the stack before it is measured.
    stack, count = [(tree.body, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            what = f"nested more than {MAX_DEPTH} deep" if depth > MAX_DEPTH else f"over {MAX_NODES} parts long"
            raise ExprError(source, f"expression {what}", _node_col(source, node))
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node) if not isinstance(c, ast.expr_context))


def compile_expr(source: str, *, names: Collection[str] | None = None, max_length: int = 2000) -> Expr:
    """Compile `source` or raise ExprError; with `names`, every name it reads must be one of them."""
    if len(source) > max_length:
        raise ExprError(source, f"expression longer than {max_length} characters")
    if not source.strip():
        raise ExprError(source, "empty expression")
    rewriter = _Rewriter(source, names)
    with warnings.catch_warnings():  # '\d' escapes, `'' is None`: under an error filter they would escape
        warnings.simplefilter("ignore")
        tree = ast.Expression(ast.Lambda(_arguments("v"), rewriter.visit(_parse(source)).body))
        code = compile(ast.fix_missing_locations(tree), "<expr>", "eval")
    fn = eval(code, {"__builtins__": {}, **HELPERS})  # noqa: S307 - a checked tree, no builtins
    return Expr(source, frozenset(rewriter.names), fn)
