"""Interventions (外呼, SMS, app popups): the tasks a decision names, their providers, the worker
that starts them, and the results fed back into cases, holds and the event log.

- tasks.py: `tasks_for` — one queued task per intervention of a decision, as effects the walk
  commits with the event;
- providers.py: the `Provider` interface, `SimulatedProvider` (deterministic, realistic) and
  `WebhookProvider` (the lending system's call centre, answering later by callback);
- worker.py: `InterventionWorker` (a thread like the webhook dispatcher) and `record_result`,
  the one way an outcome is recorded (by the worker, or by `POST /v1/interventions/{id}/result`).
"""
