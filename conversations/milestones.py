"""A conversation's milestones for the reports: when it first escalated, first said 没帮助, first opened a ticket.

Each is written by the feature that records the deciding row (handoff.queue, knowledge_base.inbox,
tickets.service) through ``record_first``, which keeps the earliest time; reports.facts rebuilds them from
those rows. They let the KPI queries (docs/kpis.md, bot-resolved and handoff rates) read one row per
conversation instead of looking up three other tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from conversations.models import Conversation


class Milestone(StrEnum):
    HANDOFF = "first_handoff_at"
    UNHELPFUL = "first_unhelpful_at"
    TICKET = "first_ticket_at"


def record_first(session: Session, sender_id: str, milestone: Milestone, at: datetime) -> None:
    """``at`` becomes the conversation's ``milestone`` unless an earlier one is known (no conversation: nothing)."""
    column = getattr(Conversation, milestone.value)
    session.execute(
        update(Conversation)
        .where(Conversation.sender_id == sender_id, or_(column.is_(None), column > at))
        .values({milestone.value: at})
        .execution_options(synchronize_session=False)
    )
