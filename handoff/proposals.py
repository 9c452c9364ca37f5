"""What agents answered becomes a proposal for the knowledge base (the curation inbox, issue 5).

When a handed-off conversation ends (closed or handed back), the customer's question and the
agent's substantive answer (``handoff.agent_answer``: no greetings, identity checks, ticket numbers or
closings) are proposed together; an admin turns them into an FAQ draft with one click. A chat with no
question (only 转人工, a greeting, a phone number) or no substantive answer proposes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message
from conversations.transcript import typed_by_customer
from handoff.agent_answer import is_question, substance
from handoff.models import Handoff
from knowledge_base.inbox import propose_agent_answer
from knowledge_base.models import Miss

MAX_ANSWER_CHARS = 2000


def _customer_question(messages: list[Message], packet: dict[str, object], since: datetime) -> str:
    """The packet's summary (the bot's reading of the problem), else the customer's first question to the
    agent, else their last question before the handoff; "" when they asked none (转人工, 你好, a phone number)."""
    summary = packet.get("summary")
    if isinstance(summary, str) and is_question(summary):
        return summary.strip()
    asked = [m for m in messages if typed_by_customer(m) and is_question(str(m.text))]
    after = [m for m in asked if m.created_at >= since]
    if after:
        return str(after[0].text).strip()
    return str(asked[-1].text).strip() if asked else ""


def propose_from_handoff(session: Session, handoff_id: int) -> Miss | None:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return None
    messages = list(
        session.scalars(select(Message).where(Message.conversation_id == handoff.conversation_id).order_by(Message.seq))
    )
    replies = [m.text for m in messages if m.author == Author.AGENT and m.text and m.created_at >= handoff.created_at]
    answer = substance(replies)[:MAX_ANSWER_CHARS]
    question = _customer_question(messages, handoff.packet or {}, handoff.created_at)
    if not answer or not question:
        return None
    conversation = session.get_one(Conversation, handoff.conversation_id)
    return propose_agent_answer(session, question, answer, conversation.sender_id, handoff.grid_code)
