"""A ticket from a handed-off chat: its fields pre-filled from the packet, the verified customer's record
and the transcript. Who the customer is (name, phone, region, tier) comes only from the record: what an
anonymous customer's client claimed fills in nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message
from conversations.transcript import typed_by_customer
from customers.models import Customer
from handoff.models import Handoff

RECENT_CUSTOMER_MESSAGES = 5
MAX_DESCRIPTION_CHARS = 1000


def _of(customer: Customer | None, attribute: str) -> str:
    value = getattr(customer, attribute) if customer is not None else None
    return value if isinstance(value, str) else ""


def ticket_draft(session: Session, handoff: Handoff) -> dict[str, Any]:
    """The fields an agent starts from (the agent checks and completes them before opening the ticket)."""
    packet: dict[str, Any] = dict(handoff.packet or {})
    slots: dict[str, Any] = packet.get("slots") or {}
    draft: dict[str, Any] = packet.get("draft_ticket") or {}
    conversation = session.get_one(Conversation, handoff.conversation_id)
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id is not None else None
    said = session.scalars(
        select(Message)
        .where(
            Message.conversation_id == handoff.conversation_id,
            Message.author == Author.CUSTOMER,
            Message.text.is_not(None),
        )
        .order_by(Message.seq.desc())
        .limit(RECENT_CUSTOMER_MESSAGES)
    ).all()
    customer_text = [str(m.text) for m in reversed(said) if typed_by_customer(m)]
    return {
        "category": draft.get("category") or slots.get("ticket_category") or "consultation",
        "description": draft.get("description")
        or slots.get("ticket_description")
        or packet.get("summary")
        or " / ".join(customer_text)[:MAX_DESCRIPTION_CHARS],
        "contact_phone": draft.get("contact_phone") or slots.get("ticket_phone") or _of(customer, "phone"),
        "contact_name": draft.get("contact_name") or slots.get("ticket_name") or _of(customer, "name"),
        "region": draft.get("region") or slots.get("ticket_region") or _of(customer, "region"),
        "amount": draft.get("amount_yuan") or slots.get("ticket_amount"),
        "customer_tier": _of(customer, "tier") or "general",
        "ticket_number": packet.get("ticket_number"),
    }
