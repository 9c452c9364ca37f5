"""What the gateway pushes to open websockets when something changes (see ``conversations.hub``).

Messages go to the conversation's topic; a queue change goes to the consoles (which fetch their own
snapshot) and, as a fresh queue position and estimated wait, to every waiting customer listening
(all of them computed in one session, each grid's queue read once).

A queue change is also the moment to give waiting customers to free agents (``assign_free_agents``):
every path that can free an agent or queue a customer (a request, an agent going online or opening
the console, a chat ending, a transfer, the queue sweep) publishes one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from conversations.hub import ALERTS_TOPIC, QUEUE_TOPIC, conversation_topic, hub_key
from conversations.live import publish_messages
from conversations.models import Conversation, Message
from conversations.notices import tell_customer
from griddesk.db import run_in_session, session_scope, utcnow
from handoff import messages
from handoff.assignment import assign_waiting
from handoff.lookups import account_name
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
    if app[hub_key].listening(topic):
        status = await run_in_session(lambda session: status_dict(queue_status(session, sender_id, utcnow())))
        app[hub_key].publish(topic, {"type": "status", **status})


def _assign_and_tell(session: Session, grid_codes: Sequence[str] | None) -> list[tuple[int, str, str, list[Message]]]:
    """Assign waiting customers and tell each one who serves them, in one transaction:
    (conversation id, sender id, grid, the notice) per assignment."""
    assigned = []
    for assignment in assign_waiting(session, grid_codes, utcnow()):
        chat = assignment.chat
        agent = account_name(session, assignment.agent_id)
        told = tell_customer(session, chat.conversation_id, messages.agent_joined(agent))
        sender = session.get_one(Conversation, chat.conversation_id).sender_id
        assigned.append((chat.conversation_id, sender, chat.grid_code, told))
    session.flush()
    for *_, told in assigned:
        for message in told:
            session.expunge(message)
    return assigned


async def assign_free_agents(app: web.Application, grid_codes: Sequence[str] | None) -> set[str]:
    """Give the waiting customers of these grids (None = all) to free agents now, tell the customers,
    and return the grids where someone was assigned (the caller publishes the queue change)."""
    assigned = await run_in_session(lambda session: _assign_and_tell(session, grid_codes))
    for conversation_id, sender, _grid, told in assigned:
        publish_messages(app, conversation_id, told)
        await publish_status(app, sender, conversation_id)
    return {grid for _c, _s, grid, _t in assigned}


async def publish_queue_change(
    app: web.Application, grid_codes: Sequence[str] | None, chats_only: bool = False
) -> None:
    """Give waiting customers to free agents, tell consoles that queues or chats changed and give
    waiting customers their new place (``chats_only``: only a chat's messages changed)."""
    if not chats_only:
        await assign_free_agents(app, grid_codes)
    hub = app[hub_key]
    hub.publish(
        QUEUE_TOPIC,
        {"type": "queue_changed", "grids": list(grid_codes) if grid_codes else None, "chats_only": chats_only},
    )
    if chats_only:
        return

    def listening(conversation_id: int) -> bool:
        # Called from the worker thread: a read of the hub's subscriber table (a dict lookup and a len,
        # atomic under the GIL; with several gateway processes, always true); a customer who connects meanwhile
        # gets the status on connecting.
        return hub.listening(conversation_topic(conversation_id))

    statuses = await run_in_session(lambda session: waiting_statuses(session, grid_codes, listening))
    for conversation_id, status in statuses:
        hub.publish(conversation_topic(conversation_id), {"type": "status", **status_dict(status)})


def publish_alerts(app: web.Application, alerts: Sequence[dict[str, Any]]) -> None:
    for alert in alerts:
        app[hub_key].publish(ALERTS_TOPIC, {"type": "alert", "alert": alert})
