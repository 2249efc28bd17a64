"""Holds, the webhook outbox, ring alerts and dispositions; a webhook per tenant.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", SEQ, primary_key=True, autoincrement=True)


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(128), nullable=True))
    op.create_table(
        "holds",
        _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("scene", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("until_ts", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("final_outcome", sa.String(16), nullable=True),
        sa.Column("resolved_ts", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolution", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.UniqueConstraint("tenant", "event_id", name="uq_holds_tenant_event_id"),
    )
    op.create_index("ix_holds_tenant_status_id", "holds", ["tenant", "status", "id"])
    op.create_index("ix_holds_tenant_customer", "holds", ["tenant", "customer_id"])
    op.create_table(
        "outbox",
        _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.UniqueConstraint("tenant", "key", name="uq_outbox_tenant_key"),
    )
    op.create_index("ix_outbox_status_next_at", "outbox", ["status", "next_at"])
    op.create_index("ix_outbox_tenant_id", "outbox", ["tenant", "id"])
    op.create_table(
        "ring_alerts",
        _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("ring_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "ring_id", "code", name="uq_ring_alerts_key"),
    )
    op.create_table(
        "ring_dispositions",
        _id(),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("ring_id", sa.String(32), nullable=False),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("fraud_type", sa.String(32), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_ring_dispositions_tenant_id", "ring_dispositions", ["tenant", "id"])


def downgrade() -> None:
    for name in ("ring_dispositions", "ring_alerts", "outbox", "holds"):
        op.drop_table(name)
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
