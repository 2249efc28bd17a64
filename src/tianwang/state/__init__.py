"""Online window state: the interface (base), the in-process backend (memory, series) and its
checkpoint file (checkpoint). A Redis backend implements the same `WindowState` protocol."""

from tianwang.state.base import Append, StateError, Stats, WindowQuery, WindowState
from tianwang.state.memory import MemoryState

__all__ = ["Append", "MemoryState", "StateError", "Stats", "WindowQuery", "WindowState"]
