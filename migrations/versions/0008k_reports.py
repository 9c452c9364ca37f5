"""reports: agent status events, report targets, indexes of the KPI queries

Revision ID: 0008k
Revises: 0008r
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008k"
down_revision = "0008r"
branch_labels = None
depends_on = None

# (table, index, columns): what the KPI queries (reports/kpis.py) filter and join on
INDEXES = [
    ("conversation", "ix_conversation_created_at", ["created_at"]),
    ("handoff", "ix_handoff_grid_code_created_at", ["grid_code", "created_at"]),
    ("ownership_event", "ix_ownership_event_handoff_to_owner", ["handoff_id", "to_owner", "created_at"]),
    ("rating", "ix_rating_created_at", ["created_at"]),
    ("ticket", "ix_ticket_grid_code_created_at", ["grid_code", "created_at"]),
    ("ticket_event", "ix_ticket_event_at", ["at"]),
    ("ticket_event", "ix_ticket_event_ticket_kind", ["ticket_id", "kind"]),
    ("kb_miss", "ix_kb_miss_sender_id_kind", ["sender_id", "kind"]),
]


def upgrade() -> None:
    op.create_table(
        "agent_status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_agent_status_event_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_status_event")),
    )
    op.create_index("ix_agent_status_event_account_at", "agent_status_event", ["account_id", "at"], unique=False)
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_table(
        "report_target",
        sa.Column("grid_code", sa.String(length=64), nullable=False),
        sa.Column("kpi", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["grid.code"], name=op.f("fk_report_target_grid_code_grid"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("grid_code", "kpi", name=op.f("pk_report_target")),
    )
    op.create_table(
        "report_target_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=64), nullable=False),
        sa.Column("kpi", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=True),
        sa.Column("new_value", sa.Float(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_target_event")),
    )
    op.create_index("ix_report_target_event_grid_code", "report_target_event", ["grid_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_report_target_event_grid_code", table_name="report_target_event")
    op.drop_table("report_target_event")
    op.drop_table("report_target")
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_agent_status_event_account_at", table_name="agent_status_event")
    op.drop_table("agent_status_event")
