"""job leases and replay claims: several gateway processes run each periodic job once and take each platform id once

Revision ID: 0009r
Revises: 0008e
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009r"
down_revision = "0008e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_lease")),
    )
    op.create_table(
        "replay_claim",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_replay_claim")),
    )
    with op.batch_alter_table("replay_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replay_claim_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("replay_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replay_claim_expires_at"))
    op.drop_table("replay_claim")
    op.drop_table("job_lease")
