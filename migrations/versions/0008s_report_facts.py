"""report facts: what the KPI queries read kept on the rows (first acceptance, first resolution, …), backfilled

Revision ID: 0008s
Revises: 0007c
Create Date: 2026-12-07 05:10:00

The reports (reports/kpis.py, docs/kpis.md) used to find these with a correlated subquery per row; from now
on the feature that writes the deciding row writes them too. This migration fills them for the rows that
exist, from the same tables the old queries read (plain SQL, the same on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008s"
down_revision = "0007c"
branch_labels = None
depends_on = None

COLUMNS = [
    ("conversation", ["first_handoff_at", "first_unhelpful_at", "first_ticket_at"]),
    ("handoff", ["first_accepted_at"]),
    ("ticket", ["responded_at", "first_resolved_at", "reopened_at", "first_overdue_at", "repeat_contact_at"]),
]

# (table, index, columns): each KPI family reads its rows of a window from one covering index (the rows of
# conversation, handoff and ticket are wide: profile, packet, encrypted contact details)
INDEXES = [
    ("conversation", "ix_conversation_report",
     ["created_at", "channel", "first_handoff_at", "first_unhelpful_at", "first_ticket_at"]),
    ("handoff", "ix_handoff_report",
     ["created_at", "grid_code", "status", "reason", "agent_id", "skill", "first_accepted_at", "first_response_at",
      "ended_at"]),
    ("ticket", "ix_ticket_report_opened", ["created_at", "grid_code", "category", "responded_at", "first_overdue_at"]),
    ("ticket", "ix_ticket_report_resolved",
     ["first_resolved_at", "grid_code", "category", "reopened_at", "repeat_contact_at"]),
    ("ticket_step", "ix_ticket_step_report",
     ["at", "grid_code", "category", "from_state", "to_state", "late", "on_time"]),
    ("ticket_step", "ix_ticket_step_ticket_to_state", ["ticket_id", "to_state", "at"]),
]  # fmt: skip

BACKFILL = [
    # a handoff's first acceptance: its first ownership event to a person
    """UPDATE handoff SET first_accepted_at = (
         SELECT MIN(e.created_at) FROM ownership_event e WHERE e.handoff_id = handoff.id AND e.to_owner = 'human')
       WHERE id IN (SELECT handoff_id FROM ownership_event WHERE to_owner = 'human')""",
    # a conversation's first handoff, first 没帮助 and first ticket
    """UPDATE conversation SET first_handoff_at = (
         SELECT MIN(h.created_at) FROM handoff h WHERE h.conversation_id = conversation.id)
       WHERE id IN (SELECT conversation_id FROM handoff)""",
    """UPDATE conversation SET first_unhelpful_at = (
         SELECT MIN(m.created_at) FROM kb_miss m WHERE m.sender_id = conversation.sender_id AND m.kind = 'unhelpful')
       WHERE sender_id IN (SELECT sender_id FROM kb_miss WHERE kind = 'unhelpful')""",
    """UPDATE conversation SET first_ticket_at = (
         SELECT MIN(t.created_at) FROM ticket t WHERE t.sender_id = conversation.sender_id)
       WHERE sender_id IN (SELECT sender_id FROM ticket)""",
    # a ticket's first response, first resolution, first reopening and first overdue mark, from its trail
    """UPDATE ticket SET
         responded_at = (SELECT MIN(e.at) FROM ticket_event e
                         WHERE e.ticket_id = ticket.id AND e.kind = 'transition' AND e.from_state = 'accepted'),
         first_resolved_at = (SELECT MIN(e.at) FROM ticket_event e
                              WHERE e.ticket_id = ticket.id AND e.kind = 'transition' AND e.to_state = 'resolved'),
         reopened_at = (SELECT MIN(e.at) FROM ticket_event e
                        WHERE e.ticket_id = ticket.id AND e.kind = 'transition' AND e.from_state = 'resolved'
                          AND e.to_state = 'in_progress'),
         first_overdue_at = (SELECT MIN(e.at) FROM ticket_event e WHERE e.ticket_id = ticket.id AND e.kind = 'overdue')
       WHERE id IN (SELECT ticket_id FROM ticket_event WHERE kind IN ('transition', 'overdue'))""",
    # the first other ticket with the same contact phone opened after a ticket's first resolution
    """UPDATE ticket SET repeat_contact_at = (
         SELECT MIN(o.created_at) FROM ticket o
         WHERE o.contact_phone_hash = ticket.contact_phone_hash AND o.id <> ticket.id
           AND o.created_at > ticket.first_resolved_at)
       WHERE first_resolved_at IS NOT NULL""",
    # every finished step: entered at the transition into its state (created_at for accepted), late when an
    # overdue event of that state falls inside the visit, on time when a resolution is by resolve_due_at
    """INSERT INTO ticket_step (ticket_id, grid_code, category, from_state, to_state, entered_at, at, late, on_time)
       SELECT v.ticket_id, v.grid_code, v.category, v.from_state, v.to_state, v.entered_at, v.at,
              EXISTS (SELECT 1 FROM ticket_event o
                      WHERE o.ticket_id = v.ticket_id AND o.kind = 'overdue' AND o.from_state = v.from_state
                        AND o.at >= v.entered_at AND o.at <= v.at),
              CASE WHEN v.to_state = 'resolved' THEN v.at <= v.resolve_due_at END
       FROM (SELECT e.id, e.ticket_id, t.grid_code, t.category, e.from_state, e.to_state, e.at, t.resolve_due_at,
                    CASE WHEN e.from_state = 'accepted' THEN t.created_at
                         ELSE (SELECT MAX(p.at) FROM ticket_event p
                               WHERE p.ticket_id = e.ticket_id AND p.kind = 'transition' AND p.to_state = e.from_state
                                 AND p.at <= e.at AND p.id < e.id) END AS entered_at
             FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id
             WHERE e.kind = 'transition') v
       WHERE v.entered_at IS NOT NULL
       ORDER BY v.id""",
]


def upgrade() -> None:
    for table, names in COLUMNS:
        for name in names:
            op.add_column(table, sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "ticket_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_step_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_step")),
    )
    for statement in BACKFILL:
        op.execute(statement)
    op.drop_index("ix_conversation_created_at", table_name="conversation")  # a prefix of ix_conversation_report
    for table, name, columns in INDEXES:  # after the backfill: one build each
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index("ix_conversation_created_at", "conversation", ["created_at"], unique=False)
    op.drop_table("ticket_step")
    # plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of ticket or conversation would have to
    # drop tables other rows point at
    for table, names in reversed(COLUMNS):
        for name in reversed(names):
            op.drop_column(table, name)
