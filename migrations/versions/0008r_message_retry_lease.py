"""message retry lease: who follows up a message the bot could not answer, and until when

Revision ID: 0008r
Revises: 0007e
Create Date: 2026-12-07 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008r"
down_revision = "0007e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_claimed_at", sa.DateTime(timezone=True), nullable=True))
        # the follow-up pass looks for unanswered messages: one index on status keeps it cheap
        batch_op.create_index(batch_op.f("ix_message_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_status"))
        batch_op.drop_column("retry_claimed_at")
