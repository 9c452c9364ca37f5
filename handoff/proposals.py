"""What agents answered becomes a proposal for the knowledge base (the curation inbox, issue 5).

When a handed-off conversation ends (closed or handed back), the customer's question and the
agent's replies are proposed together; an admin turns them into an FAQ draft with one click.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message
from conversations.transcript import typed_by_customer
from handoff.models import Handoff
from knowledge_base.inbox import propose_agent_answer
from knowledge_base.models import Miss

MAX_ANSWER_CHARS = 2000


def _customer_question(messages: list[Message], packet: dict[str, object], since: datetime) -> str:
    """The packet's summary (the bot's reading of the problem), else the last thing the customer
    typed before the agent first answered (button presses do not count)."""
    summary = packet.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    question = ""
    for message in messages:
        if message.author == Author.AGENT and message.created_at >= since:
            break
        if typed_by_customer(message):
            question = str(message.text)
    return question


def propose_from_handoff(session: Session, handoff_id: int) -> Miss | None:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    messages = list(
        session.scalars(select(Message).where(Message.conversation_id == handoff.conversation_id).order_by(Message.seq))
    )
    replies = [m.text for m in messages if m.author == Author.AGENT and m.text and m.created_at >= handoff.created_at]
    if not replies:
        return None
    conversation = session.get_one(Conversation, handoff.conversation_id)
    answer = "\n".join(replies)[:MAX_ANSWER_CHARS]
    return propose_agent_answer(
        session,
        _customer_question(messages, handoff.packet or {}, handoff.created_at),
        answer,
        conversation.sender_id,
        handoff.grid_code,
    )
