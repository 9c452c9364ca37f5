"""ticket lookup limits across conversations, per-ticket access

Failed lookups are recorded whatever the conversation (``ticket_lookup_failure``) so they can be counted
per ticket and per client address; ``ticket_lookup_lock`` locks a ticket's or a client's lookups. A
conversation now sees only the tickets it opened or verified one by one (``ticket_access``): the
per-phone grants of ``ticket_verified_phone`` are dropped, not converted (they opened every ticket of
the phone). Conversations keep seeing the tickets they opened (``ticket.sender_id``); a ticket verified
before this revision is asked for its digits once more.

Revision ID: 0007a
Revises: 0006
Create Date: 2026-12-07 01:59:52
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007a"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_lookup_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_lookup_failure")),
    )
    op.create_index("ix_ticket_lookup_failure_target_at", "ticket_lookup_failure", ["target", "at"])
    op.create_index("ix_ticket_lookup_failure_client_at", "ticket_lookup_failure", ["client", "at"])
    op.create_index(op.f("ix_ticket_lookup_failure_at"), "ticket_lookup_failure", ["at"])
    op.create_table(
        "ticket_lookup_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_lookup_lock")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_ticket_lookup_lock_scope")),
    )
    op.create_table(
        "ticket_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_access_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_access")),
        sa.UniqueConstraint("sender_id", "ticket_id", name=op.f("uq_ticket_access_sender_id")),
    )
    op.create_index(op.f("ix_ticket_access_ticket_id"), "ticket_access", ["ticket_id"])
    op.drop_table("ticket_verified_phone")


def downgrade() -> None:
    op.create_table(
        "ticket_verified_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_verified_phone")),
        sa.UniqueConstraint("sender_id", "phone", name=op.f("uq_ticket_verified_phone_sender_id")),
    )
    op.drop_index(op.f("ix_ticket_access_ticket_id"), table_name="ticket_access")
    op.drop_table("ticket_access")
    op.drop_table("ticket_lookup_lock")
    op.drop_index(op.f("ix_ticket_lookup_failure_at"), table_name="ticket_lookup_failure")
    op.drop_index("ix_ticket_lookup_failure_client_at", table_name="ticket_lookup_failure")
    op.drop_index("ix_ticket_lookup_failure_target_at", table_name="ticket_lookup_failure")
    op.drop_table("ticket_lookup_failure")
