"""Publishing a conversation's new messages to the live hub (customers' sockets, consoles, the relay)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from conversations.hub import OUTBOUND_TOPIC, conversation_topic, hub_key
from conversations.models import Message
from conversations.transcript import message_dict


def publish_messages(app: web.Application, conversation_id: int, messages: Sequence[Message]) -> None:
    hub = app[hub_key]
    for message in messages:
        hub.publish(
            conversation_topic(conversation_id),
            {"type": "message", "conversation_id": conversation_id, "message": message_dict(message)},
        )
    if messages:
        hub.publish(OUTBOUND_TOPIC, {"type": "outbound", "conversation_id": conversation_id})
