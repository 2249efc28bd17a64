"""The monitoring cube: every stored decision counted by tenant, minute, scene, outcome and reason.

Owns what one decision adds to the cube (a `Fact`), the cells it adds to, and how cells are
summed into the buckets a reader asks for (`report`). Where the cells live is the backend's:
process memory here (`MemoryCube`, the embedded default), Redis in server mode
(`monitor/redis_cube.py`). Both count a fact once however often it arrives: the cell of a
minute keeps the ids of the events it counted, so a decision delivered twice by the stream
(at-least-once) or counted again by a rebuild from the records is counted once.

Time is event time (the minute the event occurred in), as everywhere in the walk: replaying a
log gives the same cube as the live run did. A cell is kept `retention_s` after it was last
written (wall time), as Redis keeps a key with a TTL.

One cell's fields, each a count:

| field | counts |
| --- | --- |
| `o|<scene>|<outcome>` | decisions of the scene with that outcome |
| `r|<scene>|<code>` | decisions of the scene on which the rule `<code>` fired |
| `f|<scene>` | decisions of the scene that took the fallback outcome |
| `l|<scene>` | their decision latency, microseconds summed (for the mean) |
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tianwang.timefmt import iso

MINUTE_MS = 60_000
STEPS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
MAX_BUCKETS = 1440  # one report: a day by the minute, two months by the hour


@dataclass(frozen=True, slots=True)
class Fact:
    """What one stored decision adds to the cube."""

    tenant: str
    event_id: str
    minute: int  # event time, minutes since the epoch
    fields: tuple[tuple[str, int], ...]

    def wire(self) -> list:
        return [self.tenant, self.event_id, self.minute, [list(f) for f in self.fields]]

    @classmethod
    def from_wire(cls, body: list) -> "Fact":
        tenant, event_id, minute, fields = body
        return cls(str(tenant), str(event_id), int(minute), tuple((str(k), int(v)) for k, v in fields))


def fact(row: dict[str, Any]) -> Fact:
    """The fact of a decision row (as the writer commits it, or as stored in `decisions`)."""
    scene = row["scene"]
    fields = [(f"o|{scene}|{row['outcome']}", 1), (f"l|{scene}", int(row.get("latency_us") or 0))]
    codes = {r["code"] for r in row.get("reasons") or ()}
    fields += [(f"r|{scene}|{code}", 1) for code in sorted(codes)]
    if row.get("fallback"):
        fields.append((f"f|{scene}", 1))
    return Fact(row["tenant"], row["event_id"], int(row["ts"]) // MINUTE_MS, tuple(fields))


class MemoryCube:
    """The cube in process memory (embedded): cells by (tenant, minute), each with the ids it counted."""

    def __init__(self, *, retention_s: float = 48 * 3600, clock=time.time):
        self.retention_s = retention_s
        self.clock = clock
        self._lock = threading.Lock()  # added to by the writer thread, read by the API's
        self._cells: dict[tuple[str, int], dict[str, int]] = {}
        self._ids: dict[tuple[str, int], set[str]] = {}
        self._touched: dict[tuple[str, int], float] = {}
        self._newest: dict[str, int] = {}
        self._adds = 0

    def add(self, facts: Iterable[Fact]) -> int:
        """Count each fact not counted before; how many were new."""
        now, added = self.clock(), 0
        with self._lock:
            for f in facts:
                at = (f.tenant, f.minute)
                ids = self._ids.setdefault(at, set())
                if f.event_id in ids:
                    continue
                ids.add(f.event_id)
                cell = self._cells.setdefault(at, {})
                for name, inc in f.fields:
                    cell[name] = cell.get(name, 0) + inc
                self._touched[at] = now
                if f.minute > self._newest.get(f.tenant, -1):
                    self._newest[f.tenant] = f.minute
                added += 1
            self._adds += 1
            if self._adds % 1000 == 0:
                self._expire(now)
        return added

    def _expire(self, now: float) -> None:
        old = [at for at, t in self._touched.items() if now - t > self.retention_s]
        for at in old:
            del self._cells[at], self._ids[at], self._touched[at]

    def cells(self, tenant: str, first: int, last: int) -> dict[int, dict[str, int]]:
        """minute → fields, for the tenant's minutes in [first, last] that hold anything."""
        now = self.clock()
        with self._lock:
            if last - first < len(self._cells):
                found = ((m, self._cells.get((tenant, m))) for m in range(first, last + 1))
            else:
                found = ((m, c) for (t, m), c in self._cells.items() if t == tenant and first <= m <= last)
            return {m: dict(c) for m, c in found
                    if c is not None and now - self._touched[(tenant, m)] <= self.retention_s}

    def newest(self, tenant: str) -> int | None:
        """The latest minute of event time the tenant's cube holds, or None."""
        return self._newest.get(tenant)


def report(cells: dict[int, dict[str, int]], *, start_ms: int, end_ms: int, step: str,
           scene: str | None = None) -> dict[str, Any]:
    """The cells of [start_ms, end_ms) summed into buckets of `step`, every bucket listed (zeros
    too, for a chart), each with its decisions by outcome, rules fired, fallbacks and mean latency."""
    width = STEPS[step]
    buckets: dict[int, dict[str, Any]] = {}
    first = start_ms - start_ms % width
    for at in range(first, end_ms, width):
        buckets[at] = {"decisions": 0, "outcomes": {}, "reasons": {}, "fallbacks": 0, "_latency_us": 0}
    totals = {"decisions": 0, "outcomes": {}, "reasons": {}, "fallbacks": 0, "_latency_us": 0}
    for minute, fields in cells.items():
        t = minute * MINUTE_MS
        if not start_ms <= t < end_ms:
            continue
        b = buckets[t - t % width]
        for name, n in fields.items():
            kind, field_scene, rest = (name.split("|", 2) + [""])[:3]
            if scene is not None and field_scene != scene:
                continue
            for into in (b, totals):
                if kind == "o":
                    into["decisions"] += n
                    into["outcomes"][rest] = into["outcomes"].get(rest, 0) + n
                elif kind == "r":
                    into["reasons"][rest] = into["reasons"].get(rest, 0) + n
                elif kind == "f":
                    into["fallbacks"] += n
                elif kind == "l":
                    into["_latency_us"] += n
    return {"buckets": [{"at": iso(at), **_public(b)} for at, b in buckets.items()], "totals": _public(totals)}


def _public(b: dict[str, Any]) -> dict[str, Any]:
    latency = b.pop("_latency_us")
    b["latency_ms_mean"] = round(latency / b["decisions"] / 1000, 3) if b["decisions"] else None
    b["outcomes"] = dict(sorted(b["outcomes"].items()))
    b["reasons"] = dict(sorted(b["reasons"].items(), key=lambda kv: (-kv[1], kv[0])))
    return b
