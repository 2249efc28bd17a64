"""The in-process window state (embedded mode), checkpointed to one file.

Owns the series map (tenant, key) → stream id → `Series`, bounded memory by eviction, and the
checkpoint file. An entry may go once no event can still see it. Event time is not monotonic
(late arrivals; a sender's batch may carry events dated weeks ahead), so the clock eviction
trusts is each tenant's *watermark*: the least ts among its last `watermark_events` events,
which a future-dated event cannot push forward. An entry goes once its ts is at or before
(watermark − the stream's longest window − `lateness_ms`): every event no more than
`lateness_ms` older than the watermark still sees complete windows; one later than that may
find old entries gone. Eviction is amortised: a series is trimmed when it has doubled since
its last trim, and a sweep visits one key per append, so keys that went quiet are dropped.

Not thread-safe: the walk calls it from one thread (or under one lock).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tianwang.state import checkpoint as ckpt
from tianwang.state.base import Append, StateError, Stats, Watermark, WindowQuery  # Watermark: importers read it here too
from tianwang.state.series import Series

DEFAULT_LATENESS_MS = 3_600_000
DEFAULT_WATERMARK_EVENTS = 1024


class MemoryState:
    """Window series in process memory (see state/base.py for the interface)."""

    def __init__(self, *, lateness_ms: int = DEFAULT_LATENESS_MS, watermark_events: int = DEFAULT_WATERMARK_EVENTS):
        self.lateness_ms = lateness_ms
        self.watermark_events = watermark_events
        # (tenant, key) → stream id → series. Grouped by key because a plan reads many streams
        # keyed alike (one device's counts, sums, distincts …): one big-map lookup per key, not
        # per stream, is what keeps a query cheap when the map is far larger than the CPU cache.
        self._keys: dict[tuple[str, tuple], dict[str, Series]] = {}
        self._clocks: dict[str, Watermark] = {}  # tenant → its watermark
        self._sweep: list[tuple[str, tuple]] = []

    def query(self, tenant: str, t: int, requests: Sequence[tuple[str, tuple, WindowQuery]], *,
              token: str | None = None) -> list[Sequence[Any]]:
        out = []  # `token`: ignored, a failed walk's entries are reverted here before the next walk
        last, streams = None, None
        for stream_id, key, q in requests:
            if key is not last:  # requests of one key come together (and share the key object)
                last, streams = key, self._keys.get((tenant, key))
            s = None if streams is None else streams.get(stream_id)
            out.append(q.empty if s is None else s.query(t, q))
        return out

    def append(self, tenant: str, ts: int, token: str, items: Sequence[Append]) -> None:
        clock = self._clocks.get(tenant)
        if clock is None:
            clock = self._clocks[tenant] = Watermark(self.watermark_events)
        safe = clock.add(ts) - self.lateness_ms  # nothing at or before safe - W is in a window to come
        last, streams = None, None
        for stream_id, key, payload, horizon in items:
            if key is not last:  # the entries of one key come together (and share the key object)
                last = key
                streams = self._keys.get((tenant, key))
                if streams is None:
                    streams = self._keys[(tenant, key)] = {}
            s = streams.get(stream_id)
            if s is None:  # 40% of appends on simulated traffic: built with its entry, nothing to evict
                streams[stream_id] = Series.first(ts, token, payload, horizon)
                continue
            s.horizon = horizon
            s.append(ts, token, payload)
            if len(s.ts) >= s.check_at:
                s.evict(safe - horizon)
        self._sweep_step()

    def _sweep_step(self) -> None:
        # One key per append: a full pass takes as many appends as there are keys.
        if not self._sweep:
            if len(self._keys) < 64:
                return  # few keys: not worth a pass yet
            self._sweep = list(self._keys)
        k = self._sweep.pop()
        streams = self._keys.get(k)
        if streams is None:
            return
        safe = self._clocks[k[0]].ts - self.lateness_ms
        for s in streams.values():  # most keys visited have nothing to evict: no copy, no writes
            if s.ts[0] <= safe - s.horizon:
                break
        else:
            if streams:
                return
        for stream_id, s in list(streams.items()):
            if s.ts[-1] <= safe - s.horizon:
                del streams[stream_id]  # the key went quiet in this stream
            elif s.ts[0] <= safe - s.horizon:
                s.evict(safe - s.horizon)
        if not streams:
            del self._keys[k]

    def remove(self, tenant: str, ts: int, token: str, items: Sequence[tuple[str, tuple]]) -> int:
        removed = 0
        for stream_id, key in items:
            streams = self._keys.get((tenant, key))
            s = None if streams is None else streams.get(stream_id)
            if s is not None and s.remove(ts, token):
                removed += 1
                if not s.ts:
                    del streams[stream_id]
                    if not streams:
                        del self._keys[(tenant, key)]
        return removed

    def series(self) -> Iterator[tuple[tuple[str, str, tuple], Series]]:
        """Every ((tenant, stream id, key), series): for checkpoints, stats and tests."""
        for (tenant, key), streams in self._keys.items():
            for stream_id, s in streams.items():
                yield (tenant, stream_id, key), s

    def stream_ids(self) -> set[str]:
        return {stream_id for streams in self._keys.values() for stream_id in streams}

    def drop_stream(self, stream_id: str) -> int:
        dropped = 0
        for k, streams in list(self._keys.items()):
            if streams.pop(stream_id, None) is not None:
                dropped += 1
                if not streams:
                    del self._keys[k]
        return dropped

    def stats(self) -> Stats:
        n_series = entries = size = 0
        for _, s in self.series():
            n = len(s.ts)
            n_series += 1
            entries += n
            # The ts array, the list of pointers, the prefix lists, the object and its map slot;
            # tokens and payload values are shared with other streams, counted once per entry.
            size += sys.getsizeof(s.ts) + sys.getsizeof(s.rows)
            size += sum(sys.getsizeof(p) + 32 * len(p) for p in (*s.sums.values(), *s.nums.values()))
            size += 150 + 60 * n
        size += sum(sys.getsizeof(streams) + 150 for streams in self._keys.values())
        return Stats(n_series, entries, size)

    def watermark(self, tenant: str) -> int | None:
        """The event time eviction trusts for `tenant` (see the module docstring)."""
        clock = self._clocks.get(tenant)
        return None if clock is None else clock.ts

    def checkpoint(self, path: str | Path, last_seq: int) -> None:
        """Write the whole state atomically; `last_seq` is the last event log seq it includes."""
        series = [(k, *s.lists(), s.horizon) for k, s in self.series()]
        clocks = {tenant: (c.count, list(c.recent)) for tenant, c in self._clocks.items()}
        ckpt.write(path, {"last_seq": last_seq, "lateness_ms": self.lateness_ms,
                          "watermark_events": self.watermark_events, "clocks": clocks, "series": series})

    @classmethod
    def load(cls, path: str | Path) -> tuple[MemoryState, int]:
        """Read a checkpoint → (state, last_seq); StateError when it is missing or corrupt."""
        body = ckpt.read(path)
        try:
            state = cls(lateness_ms=body["lateness_ms"], watermark_events=body["watermark_events"])
            for tenant, (count, recent) in body["clocks"].items():
                state._clocks[tenant] = Watermark(state.watermark_events, count, map(tuple, recent))
            for (tenant, stream_id, key), ts, tokens, cols, horizon in body["series"]:
                streams = state._keys.setdefault((tenant, tuple(key)), {})
                streams[stream_id] = Series.restore(ts, tokens, cols, horizon)
            return state, body["last_seq"]
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"checkpoint {path} has an unexpected layout ({exc}); rebuild from the log") from None
