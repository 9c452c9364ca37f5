"""customer credentials: the conversation key of our chat page, the one-time rating token of a closed handoff

Revision ID: 0007c
Revises: 0008w
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007c"
down_revision = "0008w"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SHA-256 (hex) of the key the gateway issued to the chat page that began the conversation (conversations/keys.py)
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_key_hash", sa.String(length=64), nullable=True))
    # SHA-256 (hex) of the random single-use token the close notice's rating buttons carry (handoff.rating)
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating_token_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.drop_column("rating_token_hash")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("client_key_hash")
