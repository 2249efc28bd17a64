"""The one clock and the one written form of a time: epoch milliseconds and ISO-8601 with a Z.

Every stage counts time as integer epoch milliseconds (`to_ms`, `from_ms`), and the API
writes a time as ISO-8601 in UTC with a trailing Z instead of "+00:00" (`iso` for
milliseconds, `iso_dt` for a datetime) — microseconds, when there are any, are kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime: the one clock every stage uses."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def iso_dt(dt: datetime) -> str:
    """A datetime as the API writes a time: its ISO-8601 form, a UTC offset written Z.

    It is not converted: an aware datetime in UTC gives "…Z", any other offset stays as it is.
    """
    return dt.isoformat().replace("+00:00", "Z")


def iso(ms: int) -> str:
    """Epoch milliseconds as the API writes a time: ISO-8601 in UTC with a Z."""
    return iso_dt(from_ms(ms))
