"""Console sessions that end when their user signs out: the time before which a user's sessions
are no longer valid (server-side sign-out of a stateless, signed session cookie).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("sessions_after", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "sessions_after")
