"""The change log's operations: a registry each owner of live state fills with its own.

A change made in one process (a mark, a hold, a device sighting, a list entry, a policy
published) is told to the others by name (live/changes.py); each name is applied by the
handler its owner registered. Registering a name twice is an error, as in Marble's
`AddEvaluator`: two owners of one change would apply it twice, or differently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Ops:
    """Name → the handler that applies it here: `handler(tenant, *args)`."""

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[..., Any]] = {}

    def register(self, name: str, handler: Callable[..., Any]) -> None:
        if name in self._handlers:
            raise ValueError(f"change-log operation {name!r} is registered twice")
        self._handlers[name] = handler

    def __getitem__(self, name: str) -> Callable[..., Any]:
        try:
            return self._handlers[name]
        except KeyError:
            raise KeyError(f"no change-log operation {name!r} is registered") from None

    def __contains__(self, name: str) -> bool:
        return name in self._handlers

    def names(self) -> list[str]:
        return sorted(self._handlers)
