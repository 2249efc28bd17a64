"""The streaming generator and the JSONL writer.

`simulate` walks the run one day at a time: every honest customer's day (`sim.life`) and
the attack cases planned to start that day (`sim.attacks`) are pushed on one heap keyed by
(time, push order); everything before the next midnight is popped and yielded, the rest
(a case running past midnight) waits for the next day. Memory holds the population's
state and about one day of events, whatever the number of days. Each yielded event gets
its `event_id` and `occurred_at` (+08:00) in output order, so the same seed gives the
same bytes.

A case may also push a *continuation* (`sim.rings`): a callable popped at its time like an
event, which returns the events from then on (and maybe a later continuation). Rings make
each pulse this way, after the events before it were yielded — and, when a `Feedback` is
passed in and told the decisions (`sim.feed` does it from a live server's answers), after
learning whether they were stopped. Given the same seed and the same answers, the run is
the same; with no feedback, the adaptive rings move to a fresh farm after every pulse.
"""

from __future__ import annotations

import heapq
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import orjson

from tianwang.sim import attacks
from tianwang.sim.life import live_day
from tianwang.sim.population import World, build_population
from tianwang.sim.rings import Feedback
from tianwang.sim.writing import write_events

CST = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2026, 11, 1, tzinfo=CST)


def _start(start: datetime | date | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if not isinstance(start, datetime):
        return datetime(start.year, start.month, start.day, tzinfo=CST)
    return start if start.tzinfo else start.replace(tzinfo=CST)


def simulate(customers: int = 1000, days: int = 7, seed: int = 0, start: datetime | date | None = None, *,
             volume: float | dict[str, float] = 1.0, adaptive: bool = True,
             feedback: Feedback | None = None) -> Iterator[dict]:
    """Yield the run's events in non-decreasing `occurred_at`, each with its ground truth.

    `volume` scales every attack (a float) or some (a dict of type → factor; 0 turns one off);
    `adaptive` makes rings rotate devices and IPs between pulses: after every pulse, or, when
    `feedback` is told the decisions on the yielded events, after a pulse that was stopped.
    """
    begin = _start(start).astimezone(CST)
    begin = begin.replace(hour=0, minute=0, second=0, microsecond=0)
    epoch0 = int(begin.timestamp())
    world = World(random.Random(f"{seed}/world"))
    population = build_population(customers, days, random.Random(f"{seed}/population"), world)
    ctx = attacks.Context(world, population, seed, adaptive)
    ctx.feedback = feedback
    schedule = attacks.plan(customers, days, random.Random(f"{seed}/plan"), volume)
    prefixes: dict[int, str] = {}
    pending: list = []
    seq = 0
    n = 0

    def stamp(ts: int, ev: dict) -> dict:
        nonlocal n
        n += 1
        d, rem = divmod(ts - epoch0, 86400)
        prefix = prefixes.get(d)
        if prefix is None:
            prefix = prefixes[d] = (begin + timedelta(days=d)).strftime("%Y-%m-%dT")
        ev["event_id"] = f"s{seed}-{n:010d}"
        ev["occurred_at"] = f"{prefix}{rem // 3600:02d}:{rem % 3600 // 60:02d}:{rem % 60:02d}+08:00"
        return ev

    for day in range(days):
        t0 = epoch0 + day * 86400
        local = begin + timedelta(days=day)
        rng = random.Random(f"{seed}/day/{day}")
        items: list = []
        for c in population:
            live_day(c, day, t0, local.day, local.weekday(), rng, world, items)
        for kind in schedule[day]:
            items.extend(attacks.ATTACKS[kind][0](ctx, t0, rng))
        for ts, item in items:
            heapq.heappush(pending, (max(ts, t0), seq, item))
            seq += 1
        end = t0 + 86400 if day < days - 1 else float("inf")  # cases running past the last midnight end whole
        while pending and pending[0][0] < end:
            ts, _, item = heapq.heappop(pending)
            if item.__class__ is dict:
                yield stamp(ts, item)
                continue
            for at, later in item():  # a continuation: never earlier than now
                heapq.heappush(pending, (max(at, ts), seq, later))
                seq += 1


def write_jsonl(events: Iterable[dict], out: IO[bytes] | str | Path, *, progress: IO[str] | None = sys.stderr,
                every: float = 2.0) -> Counter:
    """Write one event per line; return counts by (scene, label). Progress lines go to `progress`."""
    if isinstance(out, (str, Path)):
        with open(out, "wb", buffering=1 << 20) as f:
            return write_jsonl(events, f, progress=progress, every=every)
    dumps, opt, write = orjson.dumps, orjson.OPT_APPEND_NEWLINE, out.write
    return write_events(events, lambda ev: write(dumps(ev, option=opt)), progress=progress, every=every)


def passing(events: Iterable[dict], write: Callable[[dict], object]) -> Iterator[dict]:
    """The events, each written by `write` on its way through (to log what is also fed)."""
    for ev in events:
        write(ev)
        yield ev


def log_format(path: Path, fmt: str | None = None) -> str:
    """`jsonl` or `parquet`: `fmt` if given, else by the file's suffix (JSONL unless .parquet)."""
    if fmt:
        return fmt
    return "parquet" if Path(path).suffix.lower() in (".parquet", ".pq") else "jsonl"


@contextmanager
def open_log(path: Path, fmt: str | None = None) -> Iterator[Callable[[dict], None]]:
    """A function writing one event to the log at `path` (JSONL or Parquet); closed on exit."""
    if log_format(path, fmt) == "parquet":
        from tianwang.sim.parquet import ParquetLog

        with ParquetLog(path) as log:
            yield log.write
        return
    dumps, opt = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    with open(path, "wb", buffering=1 << 20) as f:
        write = f.write
        yield lambda ev: write(dumps(ev, option=opt))
