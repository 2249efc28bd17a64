"""Webhook delivery: posts the outbox's pending notifications to each tenant's webhook URL.

This module owns the delivery side of the outbox (`store/outbox.py`): the HTTP request, its
signature, the retry schedule and the background thread. Rows are written elsewhere, in the
transaction of the change they tell of.

A delivery is a POST of the JSON body
`{"id": …, "topic": …, "tenant": …, "created_at": "…Z", "data": {…}}` with the headers
`X-Tianwang-Topic`, `X-Tianwang-Delivery` (the outbox id: the same notification may arrive
more than once, e.g. after a timeout, so receivers dedupe on it) and
`X-Tianwang-Signature: t=<unix seconds>,v1=<hex>`. Any 2xx is success; anything else
(another status, a timeout, a refused connection) is retried with exponential back-off until
`attempts` have failed, then the row is `dead`. A tenant's rows go out in id order.

Verifying a delivery (what `verify_signature` does): split the header on `,` into `t=` and
`v1=` parts; compute `HMAC-SHA256(secret, f"{t}.".encode() + raw_body)` as hex over the raw
request body (not a re-serialised one); compare it with a `v1` value in constant time; refuse
a `t` more than 5 minutes away from your clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import Engine

from tianwang.delivery.rounds import Rounds
from tianwang.store import outbox
from tianwang.store.schema import utcnow
from tianwang.store.tenants import list_tenants

log = logging.getLogger("tianwang")

MAX_URL_LENGTH = 2048


def sign(secret: str, body: bytes, *, t: int | None = None) -> str:
    """The `X-Tianwang-Signature` header value for `body`, signed at unix time `t` (default: now)."""
    t = int(time.time()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_s: float = 300,
                     now: float | None = None) -> bool:
    """True when `header` signs the raw `body` with `secret` and its time is within `tolerance_s` of `now`.

    `now` is unix seconds (default: the clock). Malformed headers are refused, never an error.
    """
    parts = [p.partition("=") for p in (header or "").split(",")]
    stamps = [v for k, _, v in parts if k.strip() == "t"]
    candidates = [v.strip() for k, _, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not candidates or not (stamps[0].strip().isascii() and stamps[0].strip().isdigit()):
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = sign(secret, body, t=t).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, c) for c in candidates)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook URL, or None when it can (http(s), a host, no spaces, ≤ 2048 chars)."""
    if len(url) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    return None


class WebhookDispatcher(Rounds):
    """Delivers due outbox rows to their tenants' webhooks: `run_once`, or a thread with `start`/`stop`.

    On PostgreSQL a round holds the deliveries' lease (delivery/rounds.py), so dispatchers of several
    workers take turns and a row is posted by one of them; on SQLite there is one process. A
    delivery that timed out may still arrive twice: receivers dedupe on `X-Tianwang-Delivery`.
    """

    thread_name = "tianwang-webhooks"
    batch = 100  # rows read per query; a round reads until none is due

    def __init__(self, engine: Engine, *, attempts: int = 12, timeout_s: float = 5.0, base_delay_s: float = 1.0,
                 max_delay_s: float = 600.0, poll_s: float = 1.0, metrics: Any = None,
                 client: httpx.Client | None = None) -> None:
        self.engine = self.lease_engine = engine
        self.attempts = attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.poll_s = poll_s
        self.metrics = metrics
        self.client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)
        Rounds.__init__(self)

    def run_once(self, now: datetime | None = None) -> dict[str, int]:
        """Attempt every due notification once; counts by result {"delivered", "failed", "dead"}.

        `failed` rows will be retried, `dead` ones not. Rows of tenants without a webhook URL
        are left alone; after a failure, the rest of that tenant's rows wait for its retry.
        """
        now = now or utcnow()
        counts = {"delivered": 0, "failed": 0, "dead": 0}
        with self.engine.connect() as conn:
            hooks = {t["id"]: t for t in list_tenants(conn) if t["webhook_url"]}
        blocked: set[str] = set()
        seen: set[int] = set()
        while hooks:
            with self.engine.connect() as conn:
                rows = outbox.due(conn, now=now, limit=self.batch, tenants=sorted(hooks))
            fresh = [r for r in rows if r["id"] not in seen]
            seen.update(r["id"] for r in fresh)
            for row in fresh:
                if self._stopping.is_set():  # stop() is closing the client: leave the rest for next time
                    return counts
                if row["tenant"] in blocked:
                    continue
                result = self._deliver(row, hooks[row["tenant"]], now)
                counts[result] += 1
                if self.metrics is not None:
                    self.metrics.webhook(result)
                if result != "delivered":
                    blocked.add(row["tenant"])
            if not fresh or len(rows) < self.batch:
                break
        return counts

    def _deliver(self, row: dict[str, Any], tenant: dict[str, Any], now: datetime) -> str:
        created = row["created_at"].astimezone(timezone.utc).isoformat(timespec="microseconds")
        body = orjson.dumps({"id": row["id"], "topic": row["topic"], "tenant": row["tenant"],
                             "created_at": created.replace("+00:00", "Z"), "data": row["payload"]})
        headers = {"Content-Type": "application/json", "X-Tianwang-Topic": row["topic"],
                   "X-Tianwang-Delivery": str(row["id"])}
        if tenant["webhook_secret"]:
            headers["X-Tianwang-Signature"] = sign(tenant["webhook_secret"], body)
        try:
            response = self.client.post(tenant["webhook_url"], content=body, headers=headers)
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        except Exception as exc:  # timeouts, refused connections, bad URLs: all retried alike
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = row["attempts"] + 1
        with self.engine.begin() as conn:
            if error is None:
                outbox.mark_delivered(conn, id=row["id"], attempts=attempts)
                return "delivered"
            dead = attempts >= self.attempts
            delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
            outbox.mark_failed(conn, id=row["id"], attempts=attempts, next_at=now + timedelta(seconds=delay),
                               error=error, dead=dead)
        log.warning("webhook %s of tenant %s failed (attempt %d%s): %s", row["id"], row["tenant"], attempts,
                    ", giving up" if dead else "", error)
        return "dead" if dead else "failed"

    def stop(self, timeout: float = 5) -> None:
        """Stop the thread (after its current round, waiting at most `timeout` s) and close the HTTP client."""
        Rounds.stop(self, timeout)
        self.client.close()

