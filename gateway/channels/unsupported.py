"""A message the assistant cannot read (sticker, photo, voice, file…) or that is over the length limit: kept
as a label, answered politely (never cut short and passed on).

Shared by the messaging channels. The customer's message is recorded as its label (``[图片]``,
``[sticker]``…) and the reply is a system message, so the relay delivers it like any other.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from conversations.live import publish_messages
from conversations.models import Author, Message, MessageStatus
from conversations.notices import tell_customer
from conversations.transcript import append_messages, get_or_create_conversation
from griddesk.db import session_scope, utcnow
from handoff import messages


def record_unsupported(
    sender: str, channel: str, label: str, reply: str = messages.UNSUPPORTED_MESSAGE
) -> tuple[int, list[Message]]:
    with session_scope() as session:
        conversation = get_or_create_conversation(session, sender, channel)
        conversation.customer_seen_at = utcnow()
        stored = append_messages(session, conversation.id, [(Author.CUSTOMER, label, None, MessageStatus.ANSWERED)])
        stored += tell_customer(session, conversation.id, reply)
        for message in stored:
            session.expunge(message)
        return conversation.id, stored


async def answer_unsupported(
    app: web.Application, sender: str, channel: str, label: str, reply: str = messages.UNSUPPORTED_MESSAGE
) -> None:
    conversation_id, stored = await asyncio.to_thread(record_unsupported, sender, channel, label, reply)
    publish_messages(app, conversation_id, stored)


async def refuse_if_too_long(app: web.Application, sender: str, channel: str, text: str, max_chars: int) -> bool:
    """A text over ``max_chars`` is refused with a clear reply (and kept only as a label); True when it was."""
    if len(text) <= max_chars:
        return False
    await answer_unsupported(
        app, sender, channel, messages.too_long_label(len(text)), messages.message_too_long(max_chars)
    )
    return True
