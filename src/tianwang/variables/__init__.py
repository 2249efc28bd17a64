"""Variables: declarations (definitions, varset), the live path (streams, aggregates,
compiler) and its brute-force offline twin (offline). See docs/policy.md for the language."""

from tianwang.variables.compiler import Plan, compile_plan
from tianwang.variables.definitions import ExprVar, FieldVar, ListVar, NetworkVar, VariableDef, WindowVar, parse_variables
from tianwang.variables.offline import backfill, compute_offline
from tianwang.variables.streams import Stream, StreamSet
from tianwang.variables.varset import VariableSet

__all__ = [
    "ExprVar", "FieldVar", "ListVar", "NetworkVar", "Plan", "Stream", "StreamSet", "VariableDef", "VariableSet", "WindowVar",
    "backfill", "compile_plan", "compute_offline", "parse_variables",
]
