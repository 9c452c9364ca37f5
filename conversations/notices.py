"""System messages: what the gateway itself writes into a customer's conversation (texts in ``messages``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message, MessageStatus
from conversations.transcript import append_messages


def system_reply(sender: str, text: str, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A reply in Rasa's REST shape, so every client renders it like a bot message."""
    reply: dict[str, Any] = {"recipient_id": sender, "text": text}
    if buttons:
        reply["buttons"] = buttons
    return reply


def tell_customer(
    session: Session, conversation_id: int, text: str, buttons: list[dict[str, str]] | None = None
) -> list[Message]:
    """Append a system message to the conversation (the caller publishes it after commit)."""
    sender = session.scalar(select(Conversation.sender_id).where(Conversation.id == conversation_id))
    return append_messages(
        session, conversation_id, [(Author.SYSTEM, text, system_reply(sender or "", text, buttons), MessageStatus.SENT)]
    )
