"""Factories for store tests: an event row and its decision row."""

from __future__ import annotations

from typing import Any


def event_row(i: int, *, tenant: str = "acme", customer_id: str = "c-1", ts: int | None = None,
              **payload: Any) -> dict[str, Any]:
    """A normalised event row numbered `i`."""
    return {
        "tenant": tenant,
        "event_id": f"ev-{i}",
        "scene": "drawdown",
        "customer_id": customer_id,
        "ts": 1_700_000_000_000 + i * 1000 if ts is None else ts,
        "body_hash": f"{i:064x}",
        "payload": {"device_id": f"d-{i}", "amount": 100 + i, **payload},
    }


def decision_row(i: int, *, outcome: str = "pass", **extra: Any) -> dict[str, Any]:
    """A decision for `event_row(i)`; tenant/event_id/scene/customer/ts come from the event."""
    return {
        "outcome": outcome,
        "score": i % 100,
        "reasons": [f"R{i}"],
        "interventions": ["sms"] if outcome != "pass" else [],
        "values": {"cnt_device_1h": i, "ratio": 0.5},
        "policy_version": 3,
        "strategy": "drawdown.v3",
        "latency_us": 900,
        **extra,
    }
