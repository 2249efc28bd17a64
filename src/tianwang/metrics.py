"""Prometheus metrics of the walk: decisions by scene and outcome, latency, fallbacks, errors;
held events and how they ended; webhook deliveries; captured client events (POST /v1/collect)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ROUND_TRIP_BUCKETS = (0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.1)
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter("tianwang_decisions", "Decisions made", ["scene", "outcome"], registry=r)
        self.latency = Histogram(
            "tianwang_decision_seconds", "Time to decide (variables and rules)", ["scene"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.fallbacks = Counter("tianwang_fallbacks", "Decisions that took the fallback outcome", ["scene"], registry=r)
        self.over_budget = Counter("tianwang_decisions_over_budget", "Decisions that took longer than their "
                                   "strategy's timeout_ms (kept as decided: only the latency is late)", ["scene"],
                                   registry=r)
        self.duplicates = Counter("tianwang_duplicate_events", "Repeated event_ids answered from the record", registry=r)
        self.rejected = Counter("tianwang_rejected_requests", "Requests refused before any decision", ["reason"], registry=r)
        self.rule_hits = Counter("tianwang_rule_hits", "Rules that fired", ["scene", "code"], registry=r)
        self.windows_round_trip = Histogram(
            "tianwang_windows_round_trip_seconds", "Server mode: the Redis round trip that appends an event's links to "
            "the change log and reads all of its windows", buckets=ROUND_TRIP_BUCKETS, registry=r
        )
        self.state_series = Gauge("tianwang_state_series", "Window series held in the online state", registry=r)
        self.webhook_deliveries = Counter(
            "tianwang_webhook_deliveries", "Webhook delivery attempts by result (delivered, failed, dead)", ["result"], registry=r
        )
        self.holds_open = Gauge("tianwang_holds_open", "Events held (review, verify, delay) and not yet ended", registry=r)
        self.holds_ended = Counter(
            "tianwang_holds_ended", "Held events ended, by how (released, rejected) and by whom (clock, person, "
            "reverse trigger)", ["how", "by"], registry=r
        )
        self.collect_events = Counter(
            "tianwang_collect_events", "Captured client events taken by POST /v1/collect, by result "
            "(accepted, duplicate, skipped)", ["result"], registry=r
        )
        self.collect_refused = Counter(
            "tianwang_collect_refused_beacons", "Beacons refused whole, by reason", ["reason"], registry=r
        )
        # Labelled children by their labels: `labels()` takes a lock and validates its
        # arguments on every call; scenes, outcomes and rule codes are few.
        self._children: dict[tuple, Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(self, decision: dict) -> None:
        scene = decision["scene"]
        if decision.get("duplicate"):
            self.duplicates.inc()
            return
        child = self._child
        child(self.decisions, scene, decision["outcome"]).inc()
        child(self.latency, scene).observe(decision["latency_ms"] / 1000)
        if decision["fallback"]:
            child(self.fallbacks, scene).inc()
        for reason in decision["reasons"]:
            child(self.rule_hits, scene, reason["code"]).inc()

    def webhook(self, result: str, n: int = 1) -> None:
        """Count `n` webhook deliveries that ended in `result` (delivered, failed or dead)."""
        self._child(self.webhook_deliveries, result).inc(n)

    def hold_ended(self, how: str, by: str) -> None:
        """A held event was released or rejected; `by` is clock, person or reverse (its trigger's kind)."""
        self._child(self.holds_ended, how, by.partition(":")[0]).inc()

    def collected(self, accepted: int, duplicates: int, skipped: int) -> None:
        """One beacon's events: walked, repeats of a batch already taken, and skipped ones."""
        for result, n in (("accepted", accepted), ("duplicate", duplicates), ("skipped", skipped)):
            if n:
                self._child(self.collect_events, result).inc(n)

    def beacon_refused(self, reason: str) -> None:
        self._child(self.collect_refused, reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
