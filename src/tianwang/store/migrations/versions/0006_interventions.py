"""Interventions: the tasks (sms, app popup, AI or manual call) a decision names, and their outcomes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "interventions",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant", "event_id", "kind", name="uq_interventions_tenant_event_kind"),
    )
    op.create_index("ix_interventions_status_next_at", "interventions", ["status", "next_at"])
    op.create_index("ix_interventions_tenant_customer", "interventions", ["tenant", "customer_id"])


def downgrade() -> None:
    op.drop_index("ix_interventions_tenant_customer", "interventions")
    op.drop_index("ix_interventions_status_next_at", "interventions")
    op.drop_table("interventions")
