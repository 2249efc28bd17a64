"""Device sightings: each attribute set the SDK sent and the device it resolved to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_sightings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("attrs", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(256), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("header_order", sa.String(512), nullable=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_device_sightings_tenant_id", "device_sightings", ["tenant", "id"])


def downgrade() -> None:
    op.drop_table("device_sightings")
