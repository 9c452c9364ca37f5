"""What the gateway pushes to open websockets when something changes (see ``conversations.hub``).

Messages go to the conversation's topic; a queue change goes to the consoles (which fetch their own
snapshot) and, as a fresh queue position and estimated wait, to every waiting customer listening
(all of them computed in one session, each grid's queue read once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from conversations.hub import ALERTS_TOPIC, QUEUE_TOPIC, conversation_topic, hub_key
from griddesk.db import run_in_session, session_scope, utcnow
from handoff.queue import QueueStatus, queue_status, waiting_statuses


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
    """The customer's status, blocking: for code already running in a worker thread."""
    with session_scope() as session:
        return status_dict(queue_status(session, sender_id, utcnow()))


async def publish_status(app: web.Application, sender_id: str, conversation_id: int) -> None:
    topic = conversation_topic(conversation_id)
    if app[hub_key].subscriber_count(topic):
        status = await run_in_session(lambda session: status_dict(queue_status(session, sender_id, utcnow())))
        app[hub_key].publish(topic, {"type": "status", **status})


async def publish_queue_change(
    app: web.Application, grid_codes: Sequence[str] | None, chats_only: bool = False
) -> None:
    """Tell consoles that queues or chats changed; give waiting customers their new place."""
    hub = app[hub_key]
    hub.publish(
        QUEUE_TOPIC,
        {"type": "queue_changed", "grids": list(grid_codes) if grid_codes else None, "chats_only": chats_only},
    )
    if chats_only:
        return

    def listening(conversation_id: int) -> bool:
        # Called from the worker thread: a read of the hub's subscriber table (a dict lookup and a len,
        # atomic under the GIL); a customer who connects meanwhile gets the status on connecting.
        return hub.subscriber_count(conversation_topic(conversation_id)) > 0

    statuses = await run_in_session(lambda session: waiting_statuses(session, grid_codes, listening))
    for conversation_id, status in statuses:
        hub.publish(conversation_topic(conversation_id), {"type": "status", **status_dict(status)})


def publish_alerts(app: web.Application, alerts: Sequence[dict[str, Any]]) -> None:
    for alert in alerts:
        app[hub_key].publish(ALERTS_TOPIC, {"type": "alert", "alert": alert})
