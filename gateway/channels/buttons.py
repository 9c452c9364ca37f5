"""Buttons on platforms that have none: a customer who answers with a number picks that button.

The last outgoing message of the conversation is the menu; ``2`` after a message with three buttons
means its second button's payload. Stateless: the transcript is the memory, so it survives restarts
and works for every channel the same way.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message
from griddesk.db import session_scope

_NUMBER = re.compile(r"^\s*([1-9]|[１-９])\s*$")


def buttons_of(message: Message) -> list[dict[str, str]]:
    payload = message.payload if isinstance(message.payload, dict) else {}
    buttons = payload.get("buttons")
    if not isinstance(buttons, list):
        return []
    return [b for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)]


def resolve_choice(session: Session, conversation_id: int, text: str) -> str:
    """``text`` itself, or the payload of the button its number names on the last outgoing message."""
    match = _NUMBER.match(text)
    if match is None:
        return text
    index = int(match.group(1).translate(str.maketrans("１２３４５６７８９", "123456789"))) - 1
    last = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.author != Author.CUSTOMER)
        .order_by(Message.seq.desc())
        .limit(1)
    ).first()
    buttons = buttons_of(last) if last is not None else []
    return buttons[index]["payload"] if index < len(buttons) else text


def numbered(text: str, buttons: list[dict[str, str]]) -> str:
    """The text with its buttons as a numbered list, for channels that show only text."""
    if not buttons:
        return text
    lines = [f"{i}. {b.get('title') or b.get('payload')}" for i, b in enumerate(buttons, start=1)]
    return f"{text}\n回复数字选择：\n" + "\n".join(lines)


def resolve_choice_by_sender(session: Session, sender_id: str, text: str) -> str:
    """``resolve_choice`` for the conversation of ``sender_id`` (``text`` itself when there is none yet)."""
    conversation_id = session.scalar(select(Conversation.id).where(Conversation.sender_id == sender_id))
    return text if conversation_id is None else resolve_choice(session, conversation_id, text)


def choose(sender_id: str, text: str) -> str:
    """``resolve_choice_by_sender`` in a session of its own (channels call it in a thread)."""
    with session_scope() as session:
        return resolve_choice_by_sender(session, sender_id, text)
