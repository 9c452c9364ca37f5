"""tickets: the agent a ticket is assigned to (the tickets workspace)

Revision ID: 0008w
Revises: 0008k
Create Date: 2026-12-10 10:00:00

Added in place (ALTER TABLE … ADD COLUMN), like ``customer_id`` in 0007d: the ticket table is referenced by
others and is never rebuilt, so the link to ``account`` is kept by the code (an indexed id), not a foreign key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008w"
down_revision = "0008k"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("assignee_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_ticket_assignee_id"), "ticket", ["assignee_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_assignee_id"), table_name="ticket")
    op.execute("ALTER TABLE ticket DROP COLUMN assignee_id")  # in place (SQLite 3.35+, PostgreSQL)
