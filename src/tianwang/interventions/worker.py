"""Starting intervention tasks, and recording their results (and what a result changes).

`InterventionWorker` takes the due queued tasks (store/interventions.due), marks each sent
(attempt + 1) and hands it to its tenant's provider (providers.py):
- a result at once is recorded (`record_result`); a call nobody answered (`no_answer`) goes
  back to the queue `retry_s` later until `attempts` calls were made, then is done, no_answer;
- None: the provider answers later by callback (`POST /v1/interventions/{id}/result`), the
  task stays `sent`;
- an error (a call centre down): retried with back-off, after `attempts` the task is failed.
It runs rounds in a daemon thread (`start`/`stop`/`wake`, like delivery/webhooks.WebhookDispatcher),
or one round at a time (`run_once`). Run one per deployment: the claim (queued → sent) is
conditional, so two would not start a task twice, but a task's order is not theirs to share.

`record_result` is the one way an outcome is stored, by the worker or the callback route:
1. the task ends (done; failed for outcome `failed`) with the result in its `detail`, an audit
   record (`intervention.result`) and, when its customer (or the customer's ring) has an open
   case, a case note of kind `intervention` — in one transaction, conditional on the task
   being open, so a second result is a Conflict and never a second change;
2. **denied** — the customer says the event was not theirs: if the event is still held it is
   re-decided to reject (`holds.service.resolve_hold`, actor `intervention`: `decision.revised` to the
   lending system);
3. the result walks as a `behavior` event (`iv-<task id>`, event_type `intervention`, virtual
   `<kind>_<outcome>`, at the tenant's clock), so window variables can count a customer's
   denied calls or unanswered calls. Tasks are never made for these events (tasks.py).
Steps 2 and 3 follow the commit of step 1; if one fails it is logged and said in the answer
(`revised`, `feedback_event` None), the recorded result stands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from tianwang.delivery.rounds import Rounds
from tianwang.errors import Conflict, NotFound
from tianwang.interventions.providers import Provider, Result
from tianwang.interventions.tasks import FEEDBACK_EVENT_TYPE
from tianwang.store import audit as audit_repo
from tianwang.store import cases as cases_repo
from tianwang.store import interventions as repo
from tianwang.store import events as events_repo
from tianwang.store.schema import json_dumps, utcnow
from tianwang.timefmt import from_ms, iso_dt

if TYPE_CHECKING:
    from tianwang.live.memory import Live

log = logging.getLogger("tianwang")

MAX_DETAIL = 16_000  # characters of a result's detail, as JSON
FEEDBACK_PREFIX = "iv-"


@dataclass(frozen=True)
class Recorder:
    """What recording a result needs: the records, the live state, and the two things a result
    sets off, handed in by app/boot.py so this package imports nothing of the walk.

    `resolve_hold(tenant, event_id, *, outcome, actor, note)`: a held event re-decided (holds/service.py);
    `walk_back(tenant, event)`: a behaviour event walked, its decision (or None for an unknown tenant).
    """

    db: Any
    live: Live
    resolve_hold: Callable[..., Any]
    walk_back: Callable[[str, dict], dict | None]


# ---------------------------------------------------------------------------- results


def record_result(rec: Recorder, tenant: str, task_id: int, outcome: str, detail: dict[str, Any] | None = None,
                  by: str = "api") -> dict[str, Any]:
    """Store a task's outcome and act on it (see the module docstring). Returns
    `{"task": the task now, "case_id": the case noted or None, "revised": the event re-decided
    to reject or None, "feedback_event": "iv-<id>" or None, "feedback_outcome": its decision's
    outcome or None}`.

    NotFound for an unknown task (another tenant's too); Conflict when it already has its
    result; ValueError for an unknown outcome or a detail that is not a JSON object."""
    if outcome not in repo.OUTCOMES:
        raise ValueError(f"outcome: one of {', '.join(repo.OUTCOMES)}")
    if detail is not None:
        if not isinstance(detail, dict):
            raise ValueError("detail: a JSON object, or nothing")
        try:
            size = len(json_dumps(detail))
        except TypeError as exc:
            raise ValueError(f"detail: not JSON ({exc})") from None
        if size > MAX_DETAIL:
            raise ValueError(f"detail: at most {MAX_DETAIL} characters as JSON")
    if isinstance(task_id, bool) or not isinstance(task_id, int):
        raise ValueError("task_id: an integer")
    by = (by or "api")[:64]
    with rec.db.connect() as conn:
        task = repo.get(conn, tenant=tenant, id=task_id)
    if task is None:
        raise NotFound(f"no intervention task {task_id}")
    if task["status"] not in repo.OPEN_STATUSES:
        raise Conflict(f"intervention task {task_id} already has its result: {task['status']} ({task['outcome']})")
    with rec.live.locked():  # the network changes under the walk
        ring_id = rec.live.network(tenant).ring_of(task["customer_id"])
    result = {"outcome": outcome, "by": by, "at": iso_dt(utcnow()), "attempts": task["attempts"], **(detail or {})}
    stored = {**(task["detail"] or {}), "result": result}
    about = {"task_id": task_id, "kind": task["kind"], "event_id": task["event_id"],
             "customer_id": task["customer_id"], "outcome": outcome, "by": by}
    case_id = None
    with rec.db.begin() as conn:
        if not repo.mark_done(conn, id=task_id, outcome=outcome, detail=stored):
            raise Conflict(f"intervention task {task_id} got its result meanwhile")
        found = None
        if ring_id is not None:
            found = cases_repo.open_case_of(conn, tenant=tenant, subject_kind="ring", subject_id=ring_id)
        if found is None:
            found = cases_repo.open_case_of(conn, tenant=tenant, subject_kind="customer",
                                            subject_id=task["customer_id"])
        if found is not None:
            case_id = found["id"]
            cases_repo.add_note(conn, tenant=tenant, case_id=case_id, author=by, kind="intervention",
                                text=f"{task['kind']} about event {task['event_id']} of {task['customer_id']}: "
                                     f"{outcome}"[:4000],
                                data={**about, "detail": detail or {}})
        audit_repo.append_audit(conn, tenant=tenant, actor=by, action="intervention.result",
                                target=f"intervention:{task_id}", detail={**about, "case_id": case_id})
    revised = _reject_if_denied(rec, tenant, task, outcome)
    released = _release_if_confirmed(rec, tenant, task, outcome)
    feedback = _feed_back(rec, tenant, task, outcome)
    with rec.db.connect() as conn:
        now = repo.get(conn, tenant=tenant, id=task_id)
    return {"task": now, "case_id": case_id, "revised": revised, "released": released,
            "feedback_event": feedback["event_id"] if feedback else None,
            "feedback_outcome": feedback["outcome"] if feedback else None}


def _reject_if_denied(rec: Recorder, tenant: str, task: dict[str, Any], outcome: str) -> str | None:
    """The customer denied the event: if it is still held, it is re-decided to reject."""
    if outcome != "denied":
        return None
    event_id = task["event_id"]
    if event_id not in rec.live.holds(tenant).by_event:
        return None
    note = f"the customer denied the event on the {task['kind']} (intervention {task['id']})"
    try:
        rec.resolve_hold(tenant, event_id, outcome="reject", actor="intervention", note=note)
    except (NotFound, Conflict):  # ended meanwhile (released by the clock, decided by a person)
        return None
    except Exception:
        log.exception("intervention %s: re-deciding %s failed", task["id"], event_id)
        return None
    return event_id


def _release_if_confirmed(rec: Recorder, tenant: str, task: dict[str, Any], outcome: str) -> str | None:
    """The customer confirmed the event: a delay that waited for this result goes through."""
    if outcome != "confirmed":
        return None
    hold = rec.live.holds(tenant).by_event.get(task["event_id"])
    if hold is None or not hold.waits:
        return None
    note = f"the customer confirmed the event on the {task['kind']} (intervention {task['id']})"
    try:
        rec.resolve_hold(tenant, task["event_id"], outcome="pass", actor="intervention", note=note)
    except (NotFound, Conflict):  # ended meanwhile
        return None
    except Exception:
        log.exception("intervention %s: releasing %s failed", task["id"], task["event_id"])
        return None
    return task["event_id"]


def _clock(rec: Recorder, tenant: str) -> datetime:
    """The tenant's clock (its latest event time, moved on at wall speed); the wall clock for
    a tenant that has sent nothing since the start."""
    book = rec.live.holds(tenant)
    return from_ms(book.now()) if book.clock else utcnow()


def _feed_back(rec: Recorder, tenant: str, task: dict[str, Any], outcome: str) -> dict[str, Any] | None:
    """The result walks as a behaviour event of the customer, at the tenant's clock."""
    event = {
        "event_id": f"{FEEDBACK_PREFIX}{task['id']}",
        "scene": "behavior",
        "occurred_at": iso_dt(_clock(rec, tenant)),
        "customer_id": task["customer_id"],
        "event_type": FEEDBACK_EVENT_TYPE,
        "virtual": f"{task['kind']}_{outcome}",
    }
    try:
        return rec.walk_back(tenant, event)
    except Exception:
        log.exception("intervention %s: the behaviour event %s was not stored", task["id"], event["event_id"])
        return None


# ---------------------------------------------------------------------------- the worker


class InterventionWorker(Rounds):
    """Starts due tasks with their tenants' providers: `run_once`, or a thread with `start`/`stop`."""

    thread_name = "tianwang-interventions"

    batch = 100  # tasks read per query; a round reads until none is due

    def __init__(self, rec: Recorder, provider_for: Callable[[str], Provider | None], *, attempts: int = 3,
                 retry_s: float = 1800.0, error_retry_s: float = 30.0, max_error_retry_s: float = 600.0,
                 poll_s: float = 1.0) -> None:
        """`provider_for(tenant)`: the tenant's provider (None: its tasks wait); `attempts`: how many
        times a task is started (a call nobody answered, a provider error); `retry_s`: when an
        unanswered call is tried again; provider errors back off from `error_retry_s` doubling up
        to `max_error_retry_s`."""
        if attempts < 1:
            raise ValueError("attempts: at least 1")
        self.rec = rec
        self.lease_engine = rec.db
        self.provider_for = provider_for
        self.attempts = attempts
        self.retry_s = retry_s
        self.error_retry_s = error_retry_s
        self.max_error_retry_s = max_error_retry_s
        self.poll_s = poll_s
        Rounds.__init__(self)

    def run_once(self, now: datetime | None = None) -> dict[str, int]:
        """Start every due task once; counts by what became of it: `done` (a result recorded),
        `failed` (given up, or outcome failed), `retried` (queued again), `waiting` (sent, its
        result comes by callback), `skipped` (no provider, or taken meanwhile)."""
        now = now or utcnow()
        counts = {"done": 0, "failed": 0, "retried": 0, "waiting": 0, "skipped": 0}
        seen: set[int] = set()
        unprovided: set[str] = set()  # tenants without a provider: their tasks wait, the others go on
        while True:
            with self.rec.db.connect() as conn:
                rows = repo.due(conn, now=now, limit=self.batch, exclude=unprovided)
            fresh = [r for r in rows if r["id"] not in seen]
            seen.update(r["id"] for r in fresh)
            for row in fresh:
                if self._stopping.is_set():
                    return counts
                if row["tenant"] in unprovided:
                    counts["skipped"] += 1
                    continue
                provider = self.provider_for(row["tenant"])
                if provider is None:
                    unprovided.add(row["tenant"])
                    counts["skipped"] += 1
                    continue
                counts[self._run(row, provider, now)] += 1
            if not fresh or len(rows) < self.batch:
                return counts

    def _run(self, row: dict[str, Any], provider: Provider, now: datetime) -> str:
        tenant, task_id = row["tenant"], row["id"]
        attempts = row["attempts"] + 1
        with self.rec.db.begin() as conn:
            if not repo.mark_sent(conn, id=task_id, attempts=attempts):
                return "skipped"
            stored = events_repo.get_event(conn, tenant=tenant, event_id=row["event_id"])
        task = {**row, "status": repo.SENT, "attempts": attempts,
                "record": stored["payload"] if stored is not None else None}
        by = f"provider:{provider.name}"
        tries = list((row["detail"] or {}).get("tries", []))
        try:
            result = provider.start(task)
        except Exception as exc:  # the provider could not take it: retried with back-off, then failed
            error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("intervention %s (%s) of tenant %s: attempt %d failed: %s", task_id, row["kind"], tenant,
                        attempts, error)
            tries.append({"at": iso_dt(now), "error": error})
            if attempts >= self.attempts:
                return self._record(tenant, task_id, Result("failed", {"error": error, "tries": tries}), by)
            delay = min(self.max_error_retry_s, self.error_retry_s * 2 ** (attempts - 1))
            return self._requeue(row, now + timedelta(seconds=delay), tries)
        if result is None:
            return "waiting"
        if result.outcome == "no_answer" and attempts < self.attempts:
            tries.append({"at": iso_dt(now), "outcome": "no_answer", **result.detail})
            return self._requeue(row, now + timedelta(seconds=self.retry_s), tries)
        return self._record(tenant, task_id, Result(result.outcome, {**result.detail, "tries": tries}), by)

    def _requeue(self, row: dict[str, Any], next_at: datetime, tries: list[dict[str, Any]]) -> str:
        with self.rec.db.begin() as conn:
            done = repo.requeue(conn, id=row["id"], next_at=next_at, detail={**(row["detail"] or {}), "tries": tries})
        return "retried" if done else "skipped"

    def _record(self, tenant: str, task_id: int, result: Result, by: str) -> str:
        try:
            record_result(self.rec, tenant, task_id, result.outcome, result.detail, by=by)
        except Conflict:  # a callback answered meanwhile
            return "skipped"
        return "failed" if result.outcome == "failed" else "done"


