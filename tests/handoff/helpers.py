"""Shared by the queue, assignment and rating tests: a fixed clock and a few shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conversations.models import Conversation
from grids.models import Agent
from handoff.assignment import accept, close
from tests.factories import make_account, make_handoff

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def later(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


def conversation_of(session, sender_id="customer-1") -> Conversation:
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender_id)).one()
    session.refresh(conversation)
    return conversation


def closed_handoff(session, sender_id="customer-1"):
    """A handoff accepted and closed by an agent, and the rating token the close notice carries."""
    agent = session.scalar(select(Agent))
    account_id = agent.account_id if agent else make_account(session).id
    handoff = make_handoff(session, sender_id, now=NOW)
    accept(session, handoff.id, account_id, NOW)
    token = close(session, handoff.id, account_id, later(minutes=5))
    return handoff, token
