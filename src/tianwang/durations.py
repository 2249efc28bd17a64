"""Lengths of time in policy text: `<n>m`, `<n>h` or `<n>d` (minutes, hours, days).

Two keys of a bundle take one, and read it differently on purpose: a rule's `delay` (here: any
positive length, surrounding spaces ignored) and a window variable's `window` (bounded to
1m .. 90d, written exactly, `parse_window` in variables/definitions.py). Both use these units.
"""

from __future__ import annotations

import re
from typing import Any

from tianwang.errors import PolicyError

UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^(\d+)([mhd])$")


def parse_duration_ms(text: Any, where: str) -> int:
    """'30m', '2h', '7d' → milliseconds."""
    m = _DURATION.match(str(text).strip())
    if not m or int(m.group(1)) == 0:
        raise PolicyError(where, f"{text!r} is not a duration like 30m, 2h or 7d")
    return int(m.group(1)) * UNIT_MS[m.group(2)]
