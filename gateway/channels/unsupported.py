"""A message the assistant cannot read (sticker, photo, voice, file…): kept as a label, answered politely.

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


def record_unsupported(sender: str, channel: str, label: str) -> tuple[int, list[Message]]:
    with session_scope() as session:
        conversation = get_or_create_conversation(session, sender, channel)
        conversation.customer_seen_at = utcnow()
        stored = append_messages(session, conversation.id, [(Author.CUSTOMER, label, None, MessageStatus.ANSWERED)])
        stored += tell_customer(session, conversation.id, messages.UNSUPPORTED_MESSAGE)
        for message in stored:
            session.expunge(message)
        return conversation.id, stored


async def answer_unsupported(app: web.Application, sender: str, channel: str, label: str) -> None:
    conversation_id, stored = await asyncio.to_thread(record_unsupported, sender, channel, label)
    publish_messages(app, conversation_id, stored)
