"""Feeding a running server the generated events, at a rate (`tianwang simulate --url`).

`feed` checks the server answers and takes the key, then sends each event to POST
/v1/events when the `Pacer` says it is due: the i-th at i / rate seconds after the start
(and, with `speed`, not before its simulated time sped up `speed` times). A pool of
`connections` threads, each with its own HTTP connection, sends what the pacer releases,
so the requests' round trips overlap; when the server cannot keep up, the queue fills and
the achieved rate, reported beside the asked one, falls behind.

The ground truth (`TRUTH`) stays on this side: the server sees what a lender would send.
Every answer is counted: decisions by outcome and ground-truth label, and every non-2xx
answer or connection error by kind, with the first few messages. A server that cannot be
reached (or refuses the key) at the start stops the run before anything is sent; one that
stops answering midway (`GIVE_UP` connection errors in a row) stops it with what was counted.

`LiveFeedback` passes the answers to the simulator's rings (`sim.rings.Feedback`), so an
adaptive ring that was stopped moves to a fresh farm: before a ring's next pulse it waits
until every event of that ring already sent has its answer, so what a ring learns does not
depend on network timing.
"""

from __future__ import annotations

import logging
import queue
import re
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

import httpx
import orjson
from rich import box
from rich.table import Table

from tianwang.sim.rings import OUTCOMES, Feedback

TRUTH = ("label", "group", "ring_id", "attack_id", "forged")  # ground truth: kept here, never sent
GIVE_UP = 50  # connection errors in a row after which the server is taken to be gone
UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_RATE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(?:/\s*([a-z]+))?\s*$")


class FeedError(Exception):
    """The run cannot start (or go on): the server is unreachable or refuses the key."""


def parse_rate(text: str) -> float:
    """Events per second from `500/s`, `500` (per second), `30000/min` or `2000/h`; ValueError otherwise."""
    m = _RATE.match(text.lower())
    if not m or m.group(2) not in (None, *UNITS):
        raise ValueError(f"{text!r} is not a rate: write events per second or minute, e.g. 500/s, 500 or 30000/min")
    rate = float(m.group(1)) / UNITS[m.group(2) or "s"]
    if rate <= 0:
        raise ValueError(f"{text!r}: the rate must be above zero")
    return rate


class Pacer:
    """When each event is due, in seconds after the first was sent.

    The i-th event (from 0) at i / `rate`; with `speed`, also not before (its simulated time
    − the first's) / `speed`. Neither: at once.
    """

    def __init__(self, rate: float | None = None, speed: float | None = None):
        self.rate, self.speed = rate, speed
        self._sim0: float | None = None

    def due(self, i: int, sim_time: float = 0.0) -> float:
        at = i / self.rate if self.rate else 0.0
        if self.speed:
            if self._sim0 is None:
                self._sim0 = sim_time
            at = max(at, (sim_time - self._sim0) / self.speed)
        return at


class LiveFeedback(Feedback):
    """`Feedback` fed by the sender threads; a ring's question waits for its events' answers."""

    def __init__(self, wait: float = 30.0):
        super().__init__()
        self.wait = wait
        self._pending: Counter = Counter()
        self._cond = threading.Condition()

    def sent(self, event: dict) -> None:
        case = event.get("attack_id")
        if case is not None:
            with self._cond:
                self._pending[case] += 1

    def observe(self, event: dict, outcome: str | None) -> None:
        case = event.get("attack_id")
        if case is None:
            return
        with self._cond:
            super().observe(event, outcome)
            self._pending[case] -= 1
            if self._pending[case] <= 0:
                del self._pending[case]
            self._cond.notify_all()

    def stopped(self, case: str) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: not self._pending[case], timeout=self.wait)
            return super().stopped(case)


@dataclass
class FeedResult:
    """What was sent and what came back."""

    rate: float | None = None  # asked, events/s
    generated: int = 0
    sent: int = 0
    answered: int = 0
    by_label: Counter = field(default_factory=Counter)  # (label, outcome or "error") → events
    errors: Counter = field(default_factory=Counter)  # "HTTP 422", "ConnectError", … → events
    examples: list[str] = field(default_factory=list)  # the first error messages
    latency_ms: deque = field(default_factory=lambda: deque(maxlen=200_000))  # the server's decision time
    round_trip_ms: deque = field(default_factory=lambda: deque(maxlen=200_000))
    seconds: float = 0.0
    stopped: str | None = None  # why the run ended early
    failing: int = 0  # connection errors in a row, over all connections
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def outcomes(self) -> Counter:
        out: Counter = Counter()
        for (_, outcome), n in self.by_label.items():
            out[outcome] += n
        return out

    def achieved(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """One line: counts, rates, latency, errors."""
        asked = f", asked {self.rate:,.0f}/s" if self.rate else ""
        server = _percentiles(self.latency_ms)
        trip = _percentiles(self.round_trip_ms)
        n_err = sum(self.errors.values())
        return (f"{self.generated:,} events generated, {self.sent:,} sent, {self.answered:,} decided in "
                f"{self.seconds:.1f} s ({self.achieved():,.0f}/s{asked}); decision latency p50 {server[0]:.2f} ms, "
                f"p99 {server[1]:.2f} ms; round trip p50 {trip[0]:.1f} ms, p99 {trip[1]:.1f} ms; {n_err:,} errors"
                + (f" ({', '.join(f'{k} {v:,}' for k, v in self.errors.most_common())})" if n_err else ""))

    def table(self) -> Table:
        """Decisions by ground-truth label and outcome, errors beside them."""
        table = Table("label", title="decisions by ground-truth label", box=box.SIMPLE_HEAD)
        for name in (*OUTCOMES, "error", "total"):
            table.add_column(name, justify="right")
        labels = sorted({lb for lb, _ in self.by_label}, key=lambda lb: (lb != "normal", lb))
        for lb in labels + ["total"]:
            row = [sum(n for (l2, o2), n in self.by_label.items() if o2 == o and lb in (l2, "total"))
                   for o in (*OUTCOMES, "error")]
            table.add_row(lb, *(f"{v:,}" for v in row), f"{sum(row):,}", style="bold" if lb == "total" else None)
        return table


def _percentiles(values: Iterable[float]) -> tuple[float, float]:
    lat = sorted(values)
    if not lat:
        return 0.0, 0.0
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def check(url: str, api_key: str, *, timeout: float = 5.0) -> None:
    """Raise `FeedError` unless the server at `url` answers and takes `api_key`."""
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=timeout) as client:
            health = client.get("/healthz")
            probe = client.get("/v1/decisions/tianwang-simulate-probe")
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot reach the server at {url}: {type(exc).__name__}: {exc}") from None
    if health.status_code != 200:
        raise FeedError(f"{url}/healthz answered {health.status_code}: is this a tianwang server?")
    if probe.status_code == 401:
        raise FeedError(f"the server at {url} refused the API key ({probe.text[:200]})")


def feed(events: Iterable[dict], *, url: str, api_key: str, rate: float | None = None, speed: float | None = None,
         connections: int = 16, feedback: LiveFeedback | None = None, progress: IO[str] | None = sys.stderr,
         every: float = 2.0) -> FeedResult:
    """Send every event to POST /v1/events at `rate` per second; count every answer."""
    url = url.rstrip("/")
    check(url, api_key)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a log line per request
    result = FeedResult(rate=rate)
    pacer = Pacer(rate, speed)
    todo: queue.Queue = queue.Queue(maxsize=connections * 8)
    workers = [threading.Thread(target=_send, args=(url, api_key, todo, result, feedback), daemon=True)
               for _ in range(connections)]
    for w in workers:
        w.start()
    began = last = time.perf_counter()
    try:
        for i, ev in enumerate(events):
            if result.failing >= GIVE_UP:
                result.stopped = f"the server stopped answering ({result.failing} connection errors in a row)"
                break
            result.generated += 1
            sim_time = datetime.fromisoformat(ev["occurred_at"]).timestamp() if speed else 0.0
            wait = began + pacer.due(i, sim_time) - time.perf_counter()
            if wait > 0.0005:
                time.sleep(wait)
            if feedback is not None:
                feedback.sent(ev)
            todo.put(ev)
            if progress is not None and time.perf_counter() - last >= every:
                last = time.perf_counter()
                _progress(result, last - began, ev["occurred_at"], progress)
    except KeyboardInterrupt:
        result.stopped = "interrupted (Ctrl-C)"
    finally:  # what was queued is still sent, and counted
        for _ in workers:
            todo.put(None)
        for w in workers:
            w.join()
    result.seconds = time.perf_counter() - began
    return result


def _progress(result: FeedResult, elapsed: float, sim_time: str, out: IO[str]) -> None:
    with result.lock:
        outcomes = result.outcomes
        sent, answered, errors = result.sent, result.answered, sum(result.errors.values())
    asked = f" (asked {result.rate:,.0f}/s)" if result.rate else ""
    print(f"  {sent:,} sent, {answered:,} decided, {answered / elapsed:,.0f}/s{asked}, at {sim_time[:16]}: "
          + ", ".join(f"{o} {outcomes[o]:,}" for o in OUTCOMES) + f"; {errors:,} errors", file=out, flush=True)


def _send(url: str, api_key: str, todo: queue.Queue, result: FeedResult, feedback: LiveFeedback | None) -> None:
    headers = {"X-API-Key": api_key, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while (ev := todo.get()) is not None:
            body = orjson.dumps({k: v for k, v in ev.items() if k not in TRUTH})
            started = time.perf_counter()
            outcome, latency, error, reached = None, None, None, True
            try:
                response = client.post("/v1/events", content=body)
                if response.status_code < 300:
                    decision = response.json()
                    outcome, latency = decision["outcome"], decision["latency_ms"]
                else:
                    error = (f"HTTP {response.status_code}", response.text[:300])
            except httpx.TransportError as exc:
                error, reached = (type(exc).__name__, str(exc)), False
            except Exception as exc:  # noqa: BLE001 — an answer that is not a decision is counted too
                error = (type(exc).__name__, str(exc))
            trip = (time.perf_counter() - started) * 1000
            with result.lock:
                result.sent += 1
                result.failing = 0 if reached else result.failing + 1
                result.round_trip_ms.append(trip)
                if error is None:
                    result.answered += 1
                    result.latency_ms.append(latency)
                    result.by_label[ev["label"], outcome] += 1
                else:
                    result.by_label[ev["label"], "error"] += 1
                    result.errors[error[0]] += 1
                    if len(result.examples) < 10:
                        result.examples.append(f"{ev['event_id']}: {error[0]} {error[1]}")
            if feedback is not None:
                feedback.observe(ev, outcome)
