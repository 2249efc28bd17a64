"""A delay that waits for its interventions' result (a callback) rather than only for its end: when
the delay ends without a result the hold is escalated to a person, never released by the clock.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("waits", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("holds", "waits")
