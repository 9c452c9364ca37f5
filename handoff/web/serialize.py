"""Handoff values as the console API and websocket send them (JSON-ready dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.assignment import Chat
from handoff.dispatch import AgentLoad
from handoff.labels import REASON_LABELS
from handoff.queue import QueueItem
from tickets.models import Alert


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def customer_name(conversation_id: int, profile: dict[str, object]) -> str:
    """How the consoles name a customer: a verified name, a name the client gave marked unverified, else
    访客 #<conversation id> (never anything from the sender id, the customer's credential)."""
    name = profile.get("name")
    if isinstance(name, str) and name:
        return name if profile.get("verified") is True else f"{name}（未验证）"
    return f"访客 #{conversation_id}"


def queue_item_dict(item: QueueItem) -> dict[str, Any]:
    return {
        "handoff_id": item.handoff_id,
        "conversation_id": item.conversation_id,
        "customer": customer_name(item.conversation_id, item.profile),
        "grid": {"code": item.grid_code, "name": item.grid_name},
        "reason": str(item.reason),
        "reason_label": REASON_LABELS.get(str(item.reason), str(item.reason)),
        "position": item.position,
        "waited_seconds": item.waited_seconds,
        "queued_at": _iso(item.queued_at),
        "offered_agent": {"id": item.offered_agent_id, "name": item.offered_agent_name}
        if item.offered_agent_id
        else None,
        "profile": item.profile,
        "customer_id": item.customer_id,
        "preview": item.preview,
        "question": item.question,
        "channel": item.channel,
    }


def chat_dict(chat: Chat) -> dict[str, Any]:
    return {
        "handoff_id": chat.handoff_id,
        "conversation_id": chat.conversation_id,
        "grid": {"code": chat.grid_code, "name": chat.grid_name},
        "customer": customer_name(chat.conversation_id, chat.profile),
        "accepted_at": _iso(chat.accepted_at),
        "last_seq": chat.last_seq,
        "channel": chat.channel,
        "waiting_reply": chat.waiting_reply,
        "profile": chat.profile,
        "customer_id": chat.customer_id,
        "question": chat.question,
    }


def load_dict(load: AgentLoad) -> dict[str, Any]:
    return {
        "id": load.account_id,
        "name": load.name,
        "status": str(load.status),
        "active_chats": load.active_chats,
        "max_chats": load.max_chats,
        "skills": list(load.skills),
        "grids": list(load.grid_codes),
    }


def alert_dict(alert: Alert, ticket_number: str | None = None) -> dict[str, Any]:
    """An alert; ``ticket_number`` names its ticket (the board links to the ticket's page)."""
    return {
        "id": alert.id,
        "grid": alert.grid_code,
        "kind": alert.kind,
        "step": alert.step,
        "message": alert.message,
        "created_at": _iso(alert.created_at),
        "handoff_id": alert.handoff_id,
        "ticket_id": alert.ticket_id,
        "ticket_number": ticket_number,
    }
