"""Indexes for the console's live decisions: a tenant's decisions by seq, and of one outcome by seq.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_tenant_seq", "decisions", ["tenant", "seq"])
    op.create_index("ix_decisions_tenant_outcome_seq", "decisions", ["tenant", "outcome", "seq"])


def downgrade() -> None:
    op.drop_index("ix_decisions_tenant_outcome_seq", "decisions")
    op.drop_index("ix_decisions_tenant_seq", "decisions")
