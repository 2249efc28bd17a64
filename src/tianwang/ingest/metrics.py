"""Prometheus metrics of the walk: decisions by scene and outcome, latency, fallbacks, errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
        self.duplicates = Counter("tianwang_duplicate_events", "Repeated event_ids answered from the record", registry=r)
        self.rejected = Counter("tianwang_rejected_requests", "Requests refused before any decision", ["reason"], registry=r)
        self.rule_hits = Counter("tianwang_rule_hits", "Rules that fired", ["scene", "code"], registry=r)
        self.state_series = Gauge("tianwang_state_series", "Window series held in the online state", registry=r)

    def observe(self, decision: dict) -> None:
        scene = decision["scene"]
        if decision.get("duplicate"):
            self.duplicates.inc()
            return
        self.decisions.labels(scene, decision["outcome"]).inc()
        self.latency.labels(scene).observe(decision["latency_ms"] / 1000)
        if decision["fallback"]:
            self.fallbacks.labels(scene).inc()
        for reason in decision["reasons"]:
            self.rule_hits.labels(scene, reason["code"]).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
