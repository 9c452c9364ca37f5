"""customers: the verified customer record, linked from conversations and tickets

Revision ID: 0007d
Revises: 0007h
Create Date: 2026-12-07 10:00:00

Existing ``conversation.profile`` values are what clients claimed without proof: their ``region`` and
``tier`` are dropped (only verified identities may drive routing now); a claimed ``name`` stays for display.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007d"
down_revision = "0007h"
branch_labels = None
depends_on = None

UNVERIFIED_KEYS = ("region", "tier")


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("external_id", name=op.f("uq_customer_external_id")),
    )
    # Added in place (ALTER TABLE … ADD COLUMN), never by rebuilding the table: conversation and ticket are
    # referenced by other tables, and SQLite cannot drop a referenced table with rows inside the migration's
    # transaction. The link to customer is therefore kept by the code (an indexed id), not a database foreign key.
    for table in ("conversation", "ticket"):
        op.add_column(table, sa.Column("customer_id", sa.Integer(), nullable=True))
        op.create_index(op.f(f"ix_{table}_customer_id"), table, ["customer_id"], unique=False)

    conversation = sa.table("conversation", sa.column("id", sa.Integer()), sa.column("profile", sa.JSON()))
    connection = op.get_bind()
    for row_id, profile in connection.execute(sa.select(conversation.c.id, conversation.c.profile)).all():
        if isinstance(profile, str):
            profile = json.loads(profile)
        if isinstance(profile, dict) and any(key in profile for key in UNVERIFIED_KEYS):
            kept = {key: value for key, value in profile.items() if key not in UNVERIFIED_KEYS}
            connection.execute(sa.update(conversation).where(conversation.c.id == row_id).values(profile=kept))


def downgrade() -> None:
    for table in ("ticket", "conversation"):
        op.drop_index(op.f(f"ix_{table}_customer_id"), table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN customer_id")  # in place (SQLite 3.35+, PostgreSQL)
    op.drop_table("customer")
