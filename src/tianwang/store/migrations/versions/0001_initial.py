"""Initial schema: tenants, events, decisions, lists, policy versions, append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2024-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _seq(name: str = "seq") -> sa.Column:
    return sa.Column(name, SEQ, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("api_key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("api_key_hash", name="uq_tenants_api_key_hash"),
    )
    op.create_table(
        "events",
        _seq(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("scene", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "event_id", name="uq_events_tenant_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_tenant_customer_ts", "events", ["tenant", "customer_id", "ts"])
    op.create_index("ix_events_tenant_ts", "events", ["tenant", "ts"])
    op.create_table(
        "decisions",
        _seq(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("scene", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("interventions", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("strategy", sa.String(128), nullable=True),
        sa.Column("shadow", sa.JSON(), nullable=True),
        sa.Column("fallback", sa.String(256), nullable=True),
        sa.Column("delay_until", sa.String(40), nullable=True),
        sa.Column("latency_us", sa.Integer(), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "event_id", name="uq_decisions_tenant_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_decisions_tenant_customer_ts", "decisions", ["tenant", "customer_id", "ts"]
    )
    op.create_index("ix_decisions_tenant_outcome_ts", "decisions", ["tenant", "outcome", "ts"])
    op.create_table(
        "list_entries",
        _seq("id"),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("list_type", sa.String(8), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant", "list_type", "entity", "value", name="uq_list_entries_key"),
    )
    op.create_table(
        "policy_versions",
        _seq("id"),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(512), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant", "version", name="uq_policy_versions_tenant_version"),
    )
    op.create_table(
        "audit_log",
        _seq("id"),
        sa.Column("at", TS, nullable=False),
        sa.Column("tenant", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_tenant_id", "audit_log", ["tenant", "id"])
    _audit_append_only()


def _audit_append_only() -> None:
    """The database itself refuses UPDATE and DELETE (and TRUNCATE) of audit rows."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {verb} refused'); END"
            )
        return
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for name in ("audit_log", "policy_versions", "list_entries", "decisions", "events", "tenants"):
        op.drop_table(name)
