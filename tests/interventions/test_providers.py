"""Providers: the simulator's outcomes (deterministic, realistic, true to the ground truth) and
the webhook provider against a real HTTP receiver (signed task; the result comes by callback)."""

from __future__ import annotations

from collections import Counter

import httpx
import orjson
import pytest

from tests.interventions.helpers import Receiver, held_drawdown, tasks
from tianwang.delivery.webhooks import verify_signature
from tianwang.interventions.providers import SimulatedProvider, WebhookProvider
from tianwang.interventions.worker import InterventionWorker, record_result
from tianwang.store import holds as holds_repo
from tianwang.store.schema import utcnow

SECRET = "call-centre-secret"
N = 4000


def outcomes(provider: SimulatedProvider, kind: str, label: str | None, n: int = N) -> Counter:
    record = {"attributes": {"label": label}} if label is not None else {"attributes": {}}
    return Counter(provider.start({"id": i, "kind": kind, "attempts": 1, "record": record}).outcome
                   for i in range(1, n + 1))


def test_the_simulator_is_deterministic_per_seed_task_and_attempt():
    a, b, c = SimulatedProvider(seed=1), SimulatedProvider(seed=1), SimulatedProvider(seed=2)
    tasks_ = [{"id": i, "kind": k, "attempts": 1, "record": None}
              for i in range(200) for k in ("sms", "manual_call")]
    first = [a.start(t) for t in tasks_]
    assert first == [b.start(t) for t in tasks_] == [a.start(t) for t in tasks_]
    assert first != [c.start(t) for t in tasks_]
    # A retried call is a new try: not the same answer forever.
    retried = [a.start({"id": i, "kind": "ai_call", "attempts": n, "record": None}).outcome
               for i in range(50) for n in (1, 2, 3)]
    assert any(retried[3 * i] != retried[3 * i + 1] for i in range(50))


def test_the_simulator_answers_like_customers_would():
    sim = SimulatedProvider(seed=0)
    sms = outcomes(sim, "sms", None)
    assert set(sms) <= {"delivered", "failed"} and 0.96 < sms["delivered"] / N < 0.995
    assert set(outcomes(sim, "app_popup", "identity_theft")) <= {"delivered", "failed"}

    def share(counts: Counter, outcome: str) -> float:
        answered = counts["confirmed"] + counts["denied"]
        return counts[outcome] / answered

    for kind in ("ai_call", "manual_call"):
        theft = outcomes(sim, kind, "identity_theft")
        assert set(theft) <= {"no_answer", "confirmed", "denied"}
        assert 0.21 < theft["no_answer"] / N < 0.29
        assert share(theft, "denied") > 0.8
    assert share(outcomes(sim, "manual_call", "account_takeover"), "denied") > 0.8
    assert share(outcomes(sim, "manual_call", "telecom_scam"), "confirmed") > 0.75  # victims insist
    assert outcomes(sim, "manual_call", "normal")["denied"] == 0
    unknown = outcomes(sim, "manual_call", None)
    assert 0.85 < share(unknown, "confirmed") < 0.95


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_the_webhook_provider_posts_signed_tasks_and_the_callback_completes_them(runtime, demo, receiver):
    held_drawdown(runtime, demo)
    provider = WebhookProvider(receiver.url, SECRET, httpx.Client(timeout=5))
    worker = InterventionWorker(runtime.recorder, lambda tenant: provider)
    try:
        counts = worker.run_once()
    finally:
        provider.close()
    found = tasks(runtime)
    assert counts["waiting"] == len(found) == len(receiver.requests), counts
    posted = {}
    for request in receiver.requests:
        assert verify_signature(SECRET, request["headers"]["X-Tianwang-Signature"], request["body"])
        body = orjson.loads(request["body"])
        posted[body["kind"]] = body
        assert request["headers"]["X-Tianwang-Topic"] == f"intervention.{body['kind']}"
    call = found["manual_call"]
    assert posted["manual_call"]["id"] == call["id"] and posted["manual_call"]["event_id"] == "h-dd"
    assert posted["manual_call"]["result_url"] == f"/v1/interventions/{call['id']}/result"
    assert posted["manual_call"]["detail"]["amount"] == 1_800_000
    assert "record" not in posted["manual_call"]  # the stored event stays here
    assert all(t["status"] == "sent" and t["attempts"] == 1 for t in found.values())
    assert sum(worker.run_once().values()) == 0  # sent: waiting for the call centre, not started again

    done = record_result(runtime.recorder, "demo", call["id"], "denied", {"agent": "007", "minutes": 3}, "callcentre")
    assert (done["task"]["status"], done["task"]["outcome"]) == ("done", "denied")
    assert done["task"]["detail"]["result"]["agent"] == "007"
    assert done["revised"] == "h-dd" and done["feedback_event"] == f"iv-{call['id']}"
    with runtime.db.connect() as conn:
        assert holds_repo.get(conn, tenant="demo", event_id="h-dd")["status"] == "rejected"


def test_the_webhook_provider_retries_a_call_centre_that_fails(runtime, demo, receiver):
    held_drawdown(runtime, demo)
    n = len(tasks(runtime))
    receiver.statuses = [503] * n
    provider = WebhookProvider(receiver.url, None, httpx.Client(timeout=5))
    worker = InterventionWorker(runtime.recorder, lambda tenant: provider, attempts=3, error_retry_s=0)
    try:
        assert worker.run_once()["retried"] == n
        assert "X-Tianwang-Signature" not in receiver.requests[0]["headers"]  # no secret, no signature
        assert worker.run_once(utcnow())["waiting"] == n
    finally:
        provider.close()
    assert all(t["status"] == "sent" and t["attempts"] == 2 for t in tasks(runtime).values())
    assert all("HTTP 503" in t["detail"]["tries"][0]["error"] for t in tasks(runtime).values())
