"""A ticket from a handed-off chat: its fields pre-filled from the packet, the profile and the transcript."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message
from handoff.models import Handoff

RECENT_CUSTOMER_MESSAGES = 5
MAX_DESCRIPTION_CHARS = 1000


def ticket_draft(session: Session, handoff: Handoff) -> dict[str, Any]:
    """The fields an agent starts from (the agent checks and completes them before opening the ticket)."""
    packet: dict[str, Any] = dict(handoff.packet or {})
    slots: dict[str, Any] = packet.get("slots") or {}
    draft: dict[str, Any] = packet.get("draft_ticket") or {}
    conversation = session.get_one(Conversation, handoff.conversation_id)
    profile = {**(conversation.profile or {}), **(packet.get("profile") or {})}
    said = session.scalars(
        select(Message.text)
        .where(
            Message.conversation_id == handoff.conversation_id,
            Message.author == Author.CUSTOMER,
            Message.text.is_not(None),
        )
        .order_by(Message.seq.desc())
        .limit(RECENT_CUSTOMER_MESSAGES)
    ).all()
    customer_text = [t for t in reversed(said) if t is not None and not t.startswith("/")]
    return {
        "category": draft.get("category") or slots.get("ticket_category") or "consultation",
        "description": draft.get("description")
        or slots.get("ticket_description")
        or packet.get("summary")
        or " / ".join(customer_text)[:MAX_DESCRIPTION_CHARS],
        "contact_phone": draft.get("contact_phone") or slots.get("ticket_phone") or "",
        "contact_name": draft.get("contact_name") or slots.get("ticket_name") or profile.get("name") or "",
        "region": draft.get("region") or slots.get("ticket_region") or profile.get("region") or "",
        "amount": draft.get("amount_yuan") or slots.get("ticket_amount"),
        "customer_tier": profile.get("tier") or "general",
        "ticket_number": packet.get("ticket_number"),
    }
