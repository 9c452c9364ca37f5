"""rate counters

Revision ID: 0007e
Revises: 0007d
Create Date: 2026-12-07 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007e"
down_revision = "0007d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", "window_start", name=op.f("pk_rate_counter")),
    )
    with op.batch_alter_table("rate_counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_counter_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_counter_expires_at"))
    op.drop_table("rate_counter")
