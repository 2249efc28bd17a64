"""Domain errors, declared once; `api/errors.py` maps each to an HTTP status in one place."""

from __future__ import annotations


class TianwangError(Exception):
    """Base of every error tianwang raises on purpose."""

    code = "error"


class PolicyError(TianwangError):
    """A policy bundle that cannot be published: `where` names the file and key path."""

    code = "invalid_policy"

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class SettingError(PolicyError):
    """A setting out of its range: `where` names it (TIANWANG_…); nothing was started."""

    code = "invalid_setting"


class NotFound(TianwangError):
    code = "not_found"


class Conflict(TianwangError):
    """The same idempotency key was sent before with a different body."""

    code = "conflict"


class StoreUnavailable(TianwangError):
    """The records database could not be reached or refused the write."""

    code = "store_unavailable"
