"""The decision: one shape for what the walk answers, what is stored, and what a shadow records.

A `Decision` is the mapping `POST /v1/events` answers with (a dict, so it is serialised and
copied as one). It knows its stored columns (`row`), how a stored row reads back as the same
answer (`from_row`), and the brief form a shadow strategy's result is recorded in (`brief`).
The event's own row (`event_row`) is here beside it: the two are what the walk's store step
hands to the writer.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tianwang.timefmt import iso


class Decision(dict):
    """The answer to one event (see the module docstring)."""

    __slots__ = ()

    def row(self) -> dict[str, Any]:
        """The decision's own columns; the writer copies tenant, event_id, scene … from its event."""
        return {
            "outcome": self["outcome"],
            "score": self["score"],
            "reasons": self["reasons"],
            "interventions": self["interventions"],
            "values": self["values"],
            "policy_version": self["policy_version"],
            "strategy": self["strategy"],
            "shadow": self["shadow"],
            "delay_until": self["delay_until"],
            "fallback": self["fallback"],
            "latency_us": int(self["latency_ms"] * 1000),
            "decided_at": datetime.now(timezone.utc),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any], placeholders: list[str] | None = None) -> "Decision":
        """A stored decision in the shape POST /v1/events answers with (`placeholders`: the fields
        its event's record dropped as stand-in values, when the caller read the record)."""
        version = row["policy_version"]
        out = cls({
            "event_id": row["event_id"],
            "scene": row["scene"],
            "customer_id": row["customer_id"],
            "occurred_at": iso(row["ts"]),
            "outcome": row["outcome"],
            "score": row["score"],
            "reasons": row["reasons"],
            "interventions": row["interventions"],
            "delay_until": row["delay_until"],
            "strategy": row["strategy"],
            "policy_version": version,
            "strategy_version": f"{row['strategy']}@{version}" if row["strategy"] else None,
            "shadow": row["shadow"] or [],
            "fallback": row["fallback"],
            "values": row["values"],
            "latency_ms": row["latency_us"] / 1000,
            "duplicate": False,
        })
        if placeholders:
            out["placeholders"] = placeholders
        return out

    @staticmethod
    def brief(result: dict[str, Any]) -> dict[str, Any]:
        """A strategy's result as a shadow records it: outcome, score and reason codes."""
        return {
            "outcome": result["outcome"].label,
            "score": result["score"],
            "reasons": [r["code"] for r in result["reasons"]],
        }


def event_row(tenant_id: str, record: dict, body_hash: str) -> dict[str, Any]:
    """The stored event: its record (what every later stage read) and the body's hash."""
    return {
        "tenant": tenant_id,
        "event_id": record["event_id"],
        "scene": record["scene"],
        "customer_id": record["customer_id"],
        "ts": record["ts"],
        "body_hash": body_hash,
        "payload": record,
        "received_at": datetime.now(timezone.utc),
    }
