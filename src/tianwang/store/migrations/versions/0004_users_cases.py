"""Console users, cases, alerts, case notes and event labels.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", SEQ, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "users", _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "username", name="uq_users_tenant_username"),
    )
    op.create_table(
        "cases", _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("disposition", sa.String(16), nullable=True),
        sa.Column("fraud_type", sa.String(32), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("first_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
    )
    op.create_index("ix_cases_tenant_status_priority", "cases", ["tenant", "status", "priority", "id"])
    op.create_index("ix_cases_tenant_subject", "cases", ["tenant", "subject_kind", "subject_id", "status"])
    op.create_index("ix_cases_tenant_owner_status", "cases", ["tenant", "owner", "status"])
    op.create_table(
        "alerts", _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(160), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("ring_id", sa.String(32), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(512), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "kind", "source", name="uq_alerts_source"),
    )
    op.create_index("ix_alerts_tenant_case", "alerts", ["tenant", "case_id"])
    op.create_table(
        "case_notes", _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_case_notes_tenant_case", "case_notes", ["tenant", "case_id", "id"])
    op.create_table(
        "labels", _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "event_id", name="uq_labels_tenant_event"),
    )


def downgrade() -> None:
    for name in ("labels", "case_notes", "alerts", "cases", "users"):
        op.drop_table(name)
