"""What waits for the bot: customer messages stored as ``unanswered`` while Rasa did not answer.

The gateway follows them up (gateway/recovery.py); staff see the backlog on the manager board, so a bot
outage is visible to people while it lasts. Counts only — no customer text or identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conversations.models import Author, Message, MessageStatus

# older unanswered messages are history, not followed up: their customer has long gone
HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class Backlog:
    conversations: int
    messages: int
    oldest_seconds: int | None  # how long the oldest has waited; None = nothing waits

    def to_json(self) -> dict[str, int | None]:
        return {
            "conversations": self.conversations,
            "messages": self.messages,
            "oldest_seconds": self.oldest_seconds,
        }


def bot_backlog(session: Session, now: datetime) -> Backlog:
    """Customer messages of the last day still waiting for the bot, in one query."""
    conversations, messages, oldest = session.execute(
        select(
            func.count(func.distinct(Message.conversation_id)),
            func.count(Message.id),
            func.min(Message.created_at),
        ).where(
            Message.author == Author.CUSTOMER,
            Message.status == MessageStatus.UNANSWERED,
            Message.created_at >= now - HORIZON,
        )
    ).one()
    waited = None if oldest is None else max(int((now - oldest).total_seconds()), 0)
    return Backlog(conversations=conversations, messages=messages, oldest_seconds=waited)
