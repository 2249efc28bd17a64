"""Who carries a task out: one interface, a simulator, and the lending system's call centre.

A provider's `start(task)` either answers at once with a `Result` (an SMS gateway that says
delivered, a simulated call) or returns None: the result comes later, by
`POST /v1/interventions/{id}/result` (worker.record_result). It raises when the task could not
be handed over (the worker retries it). The task is its `interventions` row as a dict (id,
tenant, event_id, customer_id, kind, attempts — this attempt's number — detail) plus `record`,
the stored event it is about (None if it cannot be read).

`SimulatedProvider` answers like real customers would, the same way every time for a given
(seed, task id, attempt): an SMS or a popup is delivered 98% of the time; a call is not
answered 25% of the time, else the customer confirms or denies the event according to its
ground truth when the simulator put one in the record (`attributes.label`): identity theft and
account takeover are mostly denied (it was not them), a telecom scam is mostly *confirmed* (the
victim insists: that is what makes scams hard), a normal event is confirmed, and an event
without a label is confirmed 90% of the time.

`WebhookProvider` POSTs the task to the lending system's call centre, signed like the outbox's
webhooks (`X-Tianwang-Signature`, delivery/webhooks.sign), and returns None.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import httpx
import orjson

from tianwang.delivery.webhooks import sign
from tianwang.timefmt import iso_dt

CALLS = frozenset({"ai_call", "manual_call"})
# The ground truth of the simulator (sim/emit.py) in which the customer did not make the event.
NOT_THEM = frozenset({"identity_theft", "account_takeover"})


@dataclass(frozen=True)
class Result:
    """A task's outcome (store/interventions.OUTCOMES) and what the provider says of it."""

    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    name: str

    def start(self, task: dict[str, Any]) -> Result | None:
        """Carry the task out: its result, or None when the result comes later by callback."""
        ...


def label_of(task: dict[str, Any]) -> str | None:
    """The simulator's ground truth of the task's event (`attributes.label`), or None."""
    record = task.get("record") or {}
    attributes = record.get("attributes") or {}
    label = attributes.get("label") if isinstance(attributes, dict) else None
    return label if isinstance(label, str) else None


class SimulatedProvider:
    """Realistic, deterministic outcomes (see the module docstring); for demos, tests and the simulator."""

    name = "simulated"
    delivered_share = 0.98
    no_answer_share = 0.25

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def start(self, task: dict[str, Any]) -> Result:
        rng = random.Random(f"{self.seed}:{task['id']}:{task.get('attempts', 1)}")
        if task["kind"] not in CALLS:
            outcome = "delivered" if rng.random() < self.delivered_share else "failed"
            return Result(outcome, {"provider": self.name})
        if rng.random() < self.no_answer_share:
            return Result("no_answer", {"provider": self.name})
        label = label_of(task)
        if label in NOT_THEM:
            denied = 0.9
        elif label == "telecom_scam":
            denied = 0.15
        elif label is None:
            denied = 0.1
        else:  # normal, and the frauds the customer commits himself (intermediary, cash_out …)
            denied = 0.0
        outcome = "denied" if rng.random() < denied else "confirmed"
        return Result(outcome, {"provider": self.name, "label": label})


class WebhookProvider:
    """Posts the task to the lending system (signed with `secret` when given); the result comes
    back at `POST /v1/interventions/{id}/result`. A non-2xx answer or a network error raises."""

    name = "webhook"

    def __init__(self, url: str, secret: str | None, client: httpx.Client | None = None, *,
                 timeout_s: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    def body(self, task: dict[str, Any]) -> bytes:
        """What is posted: the task (not the stored event) and where to answer."""
        created = task.get("created_at")
        if isinstance(created, datetime):
            created = iso_dt(created.astimezone(timezone.utc))
        return orjson.dumps({
            "id": task["id"], "tenant": task["tenant"], "kind": task["kind"], "event_id": task["event_id"],
            "customer_id": task["customer_id"], "attempt": task.get("attempts"), "created_at": created,
            "detail": task.get("detail"), "result_url": f"/v1/interventions/{task['id']}/result",
        })

    def start(self, task: dict[str, Any]) -> None:
        body = self.body(task)
        headers = {"Content-Type": "application/json", "X-Tianwang-Topic": f"intervention.{task['kind']}",
                   "X-Tianwang-Delivery": f"intervention:{task['id']}:{task.get('attempts')}"}
        if self.secret:
            headers["X-Tianwang-Signature"] = sign(self.secret, body)
        response = self.client.post(self.url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"HTTP {response.status_code} from {self.url}")
        return None

    def close(self) -> None:
        self.client.close()
