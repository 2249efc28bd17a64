"""The records schema: `metadata` and every table, one definition for SQLite and PostgreSQL.

Migrations (`store/migrations/versions/`) create these tables by hand; a test checks that the
migrated database and this module agree. Timestamps are stored in UTC and always come back as
aware datetimes; event time (`ts`, `expires_at`) is epoch milliseconds.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

# BIGINT on PostgreSQL; INTEGER on SQLite so the key is the rowid and autoincrements.
# events/decisions also get SQLite's AUTOINCREMENT: a seq is never reused, even after a delete.
SeqKey = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """DateTime that stores UTC and always returns an aware datetime (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def Json() -> JSON:
    """A JSON column where Python None is SQL NULL."""
    return JSON(none_as_null=True)


def utcnow() -> datetime:
    """The current wall time, aware, in UTC (for bookkeeping columns only; never event time)."""
    return datetime.now(timezone.utc)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def json_dumps(obj: Any) -> str:
    """Serialise a JSON column value (orjson: fast, UTF-8, rejects NaN as null)."""
    return orjson.dumps(obj, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def json_loads(text: str | bytes) -> Any:
    """Decode a JSON column value."""
    return orjson.loads(text)


tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("api_key_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    # Where the lending system hears of revised decisions, released holds and flagged rings
    # (the outbox's deliveries), and the secret their HMAC signature is made with.
    Column("webhook_url", String(2048), nullable=True),
    Column("webhook_secret", String(128), nullable=True),
    UniqueConstraint("api_key_hash", name="uq_tenants_api_key_hash"),
)

events = Table(
    "events",
    metadata,
    Column("seq", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("scene", String(32), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("payload", Json(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("tenant", "event_id", name="uq_events_tenant_event_id"),
    Index("ix_events_tenant_customer_ts", "tenant", "customer_id", "ts"),
    Index("ix_events_tenant_ts", "tenant", "ts"),
    sqlite_autoincrement=True,
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("scene", String(32), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("score", Integer, nullable=False),
    Column("reasons", Json(), nullable=False),
    Column("interventions", Json(), nullable=False),
    Column("values", Json(), nullable=False),
    Column("policy_version", Integer, nullable=True),
    Column("strategy", String(128), nullable=True),
    Column("shadow", Json(), nullable=True),
    Column("fallback", String(256), nullable=True),
    # Outcome `delay`: when the payout may proceed (ISO-8601 UTC, derived from event time).
    Column("delay_until", String(40), nullable=True),
    Column("latency_us", Integer, nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("tenant", "event_id", name="uq_decisions_tenant_event_id"),
    Index("ix_decisions_tenant_customer_ts", "tenant", "customer_id", "ts"),
    Index("ix_decisions_tenant_outcome_ts", "tenant", "outcome", "ts"),
    # The console's live stream: a tenant's decisions by seq (newest, or after the last seen).
    Index("ix_decisions_tenant_seq", "tenant", "seq"),
    Index("ix_decisions_tenant_outcome_seq", "tenant", "outcome", "seq"),
    sqlite_autoincrement=True,
)

list_entries = Table(
    "list_entries",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("list_type", String(8), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("value", String(256), nullable=False),
    Column("reason", String(512), nullable=False),
    Column("source", String(128), nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("created_by", String(128), nullable=False),
    UniqueConstraint("tenant", "list_type", "entity", "value", name="uq_list_entries_key"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(128), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("files", Json(), nullable=False),
    Column("note", String(512), nullable=False),
    Column("published_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("published_by", String(128), nullable=False),
    UniqueConstraint("tenant", "version", name="uq_policy_versions_tenant_version"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False, default=utcnow),
    Column("tenant", String(64), nullable=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("detail", Json(), nullable=False),
    Index("ix_audit_log_tenant_id", "tenant", "id"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("scene", String(32), nullable=False),
    # The decision's outcome (review, verify or delay): what the event is waiting for.
    Column("outcome", String(16), nullable=False),
    Column("ts", BigInteger, nullable=False),
    # A delay: the event time (epoch ms) the payout may proceed; None waits for a person.
    Column("until_ts", BigInteger, nullable=True),
    # 1: the delay waits for its interventions' result; ended without one, it goes to a person
    Column("waits", Integer, nullable=False, default=0, server_default="0"),
    # held → released (went through) | rejected (refused after all)
    Column("status", String(16), nullable=False),
    Column("final_outcome", String(16), nullable=True),
    Column("resolved_ts", BigInteger, nullable=True),
    Column("resolved_by", String(128), nullable=True),
    Column("resolution", Json(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("resolved_at", UTCDateTime(), nullable=True),
    UniqueConstraint("tenant", "event_id", name="uq_holds_tenant_event_id"),
    Index("ix_holds_tenant_status_id", "tenant", "status", "id"),
    Index("ix_holds_tenant_customer", "tenant", "customer_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("topic", String(64), nullable=False),
    # One notification per key (e.g. decision.revised:<event_id>): a retried walk adds none twice.
    Column("key", String(256), nullable=False),
    Column("payload", Json(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    # pending → delivered | dead (gave up after the last attempt)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("last_error", String(512), nullable=True),
    UniqueConstraint("tenant", "key", name="uq_outbox_tenant_key"),
    Index("ix_outbox_status_next_at", "status", "next_at"),
    Index("ix_outbox_tenant_id", "tenant", "id"),
)

ring_alerts = Table(
    "ring_alerts",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("ring_id", String(32), nullable=False),
    # The reverse trigger's code, or RING_DISPOSITION_FRAUD for an investigator's disposition.
    Column("code", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("event_id", String(128), nullable=True),
    Column("members", Json(), nullable=False),
    Column("measures", Json(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("tenant", "ring_id", "code", name="uq_ring_alerts_key"),
)

ring_dispositions = Table(
    "ring_dispositions",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("ring_id", String(32), nullable=False),
    Column("disposition", String(16), nullable=False),
    Column("fraud_type", String(32), nullable=True),
    Column("members", Json(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("note", String(2000), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Index("ix_ring_dispositions_tenant_id", "tenant", "id"),
)

device_sightings = Table(
    "device_sightings",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("ts", BigInteger, nullable=False),
    # What the SDK sent: the raw attribute set (normalised) and the token, with the sender's IP.
    Column("attrs", Json(), nullable=False),
    Column("token", String(256), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("customer_id", String(128), nullable=True),
    Column("header_order", String(512), nullable=True),
    # What it resolved to (the registry replays the sightings in id order on start).
    Column("device_id", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Index("ix_device_sightings_tenant_id", "tenant", "id"),
)

users = Table(
    "users",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    # scrypt: "scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>"
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),  # analyst | investigator | admin
    Column("disabled", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    # epoch ms: a session issued at or before it was signed out (server-side sign-out)
    Column("sessions_after", BigInteger, nullable=True),
    UniqueConstraint("tenant", "username", name="uq_users_tenant_username"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    # What the case is about: a customer, or a ring (its alerts' customers are its members).
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # open → investigating → closed
    Column("owner", String(64), nullable=True),
    Column("disposition", String(16), nullable=True),  # fraud | not_fraud
    Column("fraud_type", String(32), nullable=True),
    Column("priority", Integer, nullable=False, default=0),
    Column("alerts", Integer, nullable=False, default=0),
    Column("first_ts", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("updated_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("closed_at", UTCDateTime(), nullable=True),
    Index("ix_cases_tenant_status_priority", "tenant", "status", "priority", "id"),
    Index("ix_cases_tenant_subject", "tenant", "subject_kind", "subject_id", "status"),
    Index("ix_cases_tenant_owner_status", "tenant", "owner", "status"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # decision | ring
    # The event decided review (kind decision) or the ring flagged (kind ring), once each.
    Column("source", String(160), nullable=False),
    Column("customer_id", String(128), nullable=True),
    Column("ring_id", String(32), nullable=True),
    Column("case_id", BigInteger, nullable=False),
    Column("score", Integer, nullable=False, default=0),
    Column("reason", String(512), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("tenant", "kind", "source", name="uq_alerts_source"),
    Index("ix_alerts_tenant_case", "tenant", "case_id"),
)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("case_id", BigInteger, nullable=False),
    Column("author", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # note | evidence | status | intervention
    Column("text", String(4000), nullable=False),
    Column("data", Json(), nullable=True),
    Column("at", UTCDateTime(), nullable=False, default=utcnow),
    Index("ix_case_notes_tenant_case", "tenant", "case_id", "id"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("label", String(32), nullable=False),  # a fraud type, or normal
    Column("source", String(128), nullable=False),  # case:<id>
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("tenant", "event_id", name="uq_labels_tenant_event"),
)

interventions = Table(
    "interventions",
    metadata,
    Column("id", SeqKey, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # sms | app_popup | ai_call | manual_call
    Column("status", String(16), nullable=False),  # queued → sent → done | failed
    Column("attempts", Integer, nullable=False, default=0),
    # When a queued task is due (its first start, or the retry of a call nobody answered).
    Column("next_at", UTCDateTime(), nullable=False),
    # delivered | answered | confirmed | denied | no_answer | failed (None until there is one)
    Column("outcome", String(16), nullable=True),
    Column("detail", Json(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Column("updated_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("tenant", "event_id", "kind", name="uq_interventions_tenant_event_kind"),
    Index("ix_interventions_status_next_at", "status", "next_at"),
    Index("ix_interventions_tenant_customer", "tenant", "customer_id"),
)
