"""Writing a simulated event stream: each event handed to a writer, counted by scene and label,
with a progress line every few seconds (JSONL in sim/run.py, Parquet in sim/parquet.py)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import IO


def write_events(events: Iterable[dict], write: Callable[[dict], object], *, progress: IO[str] | None = sys.stderr,
                 every: float = 2.0) -> Counter:
    """Call `write` on every event; return counts by (scene, label). Progress lines go to `progress`."""
    counts: Counter = Counter()
    began = last = time.monotonic()
    n = 0
    for ev in events:
        write(ev)
        counts[ev["scene"], ev["label"]] += 1
        n += 1
        if progress is not None and not n & 0x3FFF:
            now = time.monotonic()
            if now - last >= every:
                last = now
                print(f"  {n:,} events, at {ev['occurred_at'][:10]}, {n / (now - began):,.0f}/s",
                      file=progress, flush=True)
    if progress is not None:
        secs = max(time.monotonic() - began, 1e-9)
        print(f"  {n:,} events in {secs:.1f} s ({n / secs:,.0f}/s)", file=progress, flush=True)
    return counts
