"""What the gateway pushes to open websockets when something changes (see ``conversations.hub``).

Messages go to the conversation's topic; a queue change goes to the consoles (which fetch their own
snapshot) and, as a fresh queue position and estimated wait, to every waiting customer listening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy import select

from griddesk.db import session_scope, utcnow
from conversations.hub import ALERTS_TOPIC, QUEUE_TOPIC, conversation_topic, hub_key
from conversations.models import Conversation, Owner
from handoff.queue import QueueStatus, queue_status


def status_dict(status: QueueStatus) -> dict[str, Any]:
    return {
        "owner": str(status.owner),
        "grid": {"code": status.grid_code, "name": status.grid_name} if status.grid_code else None,
        "position": status.position,
        "eta_seconds": status.eta_seconds,
        "agent_name": status.agent_name,
        "handoff_id": status.handoff_id,
        "rating_pending": status.rating_pending,
    }


def customer_status(sender_id: str) -> dict[str, Any]:
    with session_scope() as session:
        return status_dict(queue_status(session, sender_id, utcnow()))


async def publish_status(app: web.Application, sender_id: str, conversation_id: int) -> None:
    topic = conversation_topic(conversation_id)
    if app[hub_key].subscriber_count(topic):
        status = await asyncio.to_thread(customer_status, sender_id)
        app[hub_key].publish(topic, {"type": "status", **status})


def _waiting(grid_codes: Sequence[str] | None) -> list[tuple[str, int]]:
    with session_scope() as session:
        query = select(Conversation.sender_id, Conversation.id).where(Conversation.owner == Owner.QUEUED)
        if grid_codes is not None:
            query = query.where(Conversation.grid_code.in_(grid_codes))
        return [(sender, conversation_id) for sender, conversation_id in session.execute(query)]


async def publish_queue_change(app: web.Application, grid_codes: Sequence[str] | None,
                               chats_only: bool = False) -> None:
    """Tell consoles that queues or chats changed; give waiting customers their new place."""
    hub = app[hub_key]
    hub.publish(QUEUE_TOPIC, {"type": "queue_changed", "grids": list(grid_codes) if grid_codes else None,
                              "chats_only": chats_only})
    if chats_only:
        return
    for sender_id, conversation_id in await asyncio.to_thread(_waiting, grid_codes):
        await publish_status(app, sender_id, conversation_id)


def publish_alerts(app: web.Application, alerts: Sequence[dict[str, Any]]) -> None:
    for alert in alerts:
        app[hub_key].publish(ALERTS_TOPIC, {"type": "alert", "alert": alert})
