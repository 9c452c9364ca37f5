"""A ticket from a handed-off chat: its fields pre-filled from the packet, the verified customer's record
and the transcript. Who the customer is (name, tier) comes only from the record: what an anonymous
customer's client claimed fills in nothing; a phone number the customer typed in the chat does (they
gave it to be called back), before the record's.

- category: the bot's draft or slots, else a complaint (the reason or the intent), else the service the
  packet names (``skill``), else the words of the customer's question (宽带断网 → fault), else 咨询;
- description: the draft's, else what the customer asked (the packet's summary and their messages,
  without 转人工, button payloads or a bare phone number);
- region, tier and grid: the verified customer's (tier), the handoff's grid (the ticket stays where the
  chat is served; ``open_ticket`` would otherwise route it by region alone).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import Author, Conversation, Message
from conversations.transcript import typed_by_customer
from customers.models import Customer
from handoff.lookups import is_question
from handoff.models import Handoff, HandoffReason
from tickets.fields import category_in, find_phone
from tickets.models import Category

RECENT_CUSTOMER_MESSAGES = 10
MAX_DESCRIPTION_CHARS = 1000
COMPLAINT_INTENTS = frozenset({"complain"})
MAX_PHONE_WORDS = 6  # 「我的电话是」 around a number still only gives the number
_NOT_WORDS = re.compile(r"[\d\s\-+()（）:：,，。.]")


def _of(customer: Customer | None, attribute: str) -> str:
    value = getattr(customer, attribute) if customer is not None else None
    return value if isinstance(value, str) else ""


def _only_a_phone(text: str) -> bool:
    """「13812345678」, 「电话：138-1234-5678」: a number given, not a question asked."""
    return find_phone(text) is not None and len(_NOT_WORDS.sub("", text)) <= MAX_PHONE_WORDS


def _category(packet: dict[str, Any], questions: list[str]) -> str:
    draft: dict[str, Any] = packet.get("draft_ticket") or {}
    slots: dict[str, Any] = packet.get("slots") or {}
    explicit = draft.get("category") or slots.get("ticket_category")
    if explicit in set(Category):
        return str(explicit)
    intent = (packet.get("intent") or {}).get("name")
    if packet.get("reason") == HandoffReason.COMPLAINT or intent in COMPLAINT_INTENTS:
        return Category.COMPLAINT.value
    if packet.get("skill") in set(Category):
        return str(packet["skill"])
    for text in questions:
        if (named := category_in(text)) is not None:
            return named.value
    return Category.CONSULTATION.value


def _description(packet: dict[str, Any], questions: list[str]) -> str:
    summary = packet.get("summary")
    texts = [summary] if isinstance(summary, str) and is_question(summary) else []
    texts += [text for text in questions if text not in texts]
    return " / ".join(" ".join(text.split()) for text in texts)[:MAX_DESCRIPTION_CHARS]


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
    # the customer's own words, oldest first: button presses and payloads are not what they asked
    oldest_first = [str(m.text) for m in reversed(said) if typed_by_customer(m)]
    typed_phone = next((phone for text in reversed(oldest_first) if (phone := find_phone(text))), "")
    # what the customer asked: not the controls, not a message that only gives the phone number
    questions = [text for text in oldest_first if is_question(text) and not _only_a_phone(text)]
    return {
        "category": _category(packet, questions),
        "description": draft.get("description") or slots.get("ticket_description") or _description(packet, questions),
        "contact_phone": draft.get("contact_phone")
        or slots.get("ticket_phone")
        or typed_phone
        or _of(customer, "phone"),
        "contact_name": draft.get("contact_name") or slots.get("ticket_name") or _of(customer, "name"),
        "region": draft.get("region") or slots.get("ticket_region") or _of(customer, "region"),
        "amount": draft.get("amount_yuan") or slots.get("ticket_amount"),
        "customer_tier": _of(customer, "tier") or "general",
        "grid": handoff.grid_code,
        "ticket_number": packet.get("ticket_number"),
    }


def verified_tier(session: Session, handoff: Handoff) -> str | None:
    """The verified customer's tier (what a ticket from the chat is opened with), or None when anonymous."""
    conversation = session.get_one(Conversation, handoff.conversation_id)
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id is not None else None
    return _of(customer, "tier") or None
