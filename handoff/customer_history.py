"""A verified customer's history for agents (the console's 客户档案): the record, their conversations on
every device and channel, and their tickets; and whose customer they are (no HTTP here).

Staff see a customer when one of the customer's conversations was handed to one of their grids (or to
them), or one of the customer's tickets is in one of their grids; admins see everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from accounts.directory import account_names
from conversations.models import Conversation, Message
from customers.models import Customer
from griddesk.errors import DomainError
from handoff.models import Handoff
from tickets.models import Ticket

MAX_LISTED = 50
LAST_MESSAGE_CHARS = 120


class CustomerNotFound(DomainError):
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("找不到该客户。")


@dataclass(frozen=True)
class CustomerConversation:
    conversation_id: int
    channel: str
    started_at: datetime
    owner: str
    agent_name: str | None  # who serves it now, when a person does
    last_message_text: str | None
    last_message_author: str | None
    last_message_at: datetime | None


@dataclass(frozen=True)
class CustomerTicket:
    number: str
    state: str
    category: str
    grid_code: str
    created_at: datetime


@dataclass(frozen=True)
class CustomerRecord:
    id: int
    external_id: str
    name: str | None
    phone: str | None
    region: str | None
    tier: str | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class CustomerHistory:
    customer: CustomerRecord
    conversations: list[CustomerConversation]
    tickets: list[CustomerTicket]


def customer_in_grids(session: Session, customer_id: int, grid_codes: Sequence[str] | None, account_id: int) -> bool:
    """Whether staff of ``grid_codes`` (None = admins: all) or agent ``account_id`` may see this customer."""
    if grid_codes is None:
        return True
    conversations = select(Conversation.id).where(Conversation.customer_id == customer_id)
    handed = select(Handoff.id).where(
        Handoff.conversation_id.in_(conversations),
        Handoff.grid_code.in_(list(grid_codes)) | (Handoff.agent_id == account_id),
    )
    ticketed = select(Ticket.id).where(Ticket.customer_id == customer_id, Ticket.grid_code.in_(list(grid_codes)))
    return session.scalar(handed.limit(1)) is not None or session.scalar(ticketed.limit(1)) is not None


def _shorten(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= LAST_MESSAGE_CHARS else text[: LAST_MESSAGE_CHARS - 1] + "…"


def customer_history(session: Session, customer_id: int) -> CustomerHistory:
    """The record, the newest conversations first (with their last message) and the newest tickets first."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound()
    conversations = session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(MAX_LISTED)
    ).all()
    ids = [c.id for c in conversations]
    latest = (
        select(Message.conversation_id, func.max(Message.seq).label("seq"))
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
        .subquery()
    )
    last = {
        row.conversation_id: row
        for row in session.execute(
            select(Message.conversation_id, Message.text, Message.author, Message.created_at).join(
                latest, and_(Message.conversation_id == latest.c.conversation_id, Message.seq == latest.c.seq)
            )
        )
    }
    agents = account_names(session, (c.agent_id for c in conversations if c.agent_id is not None))
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(MAX_LISTED)
    ).all()
    return CustomerHistory(
        customer=CustomerRecord(
            id=customer.id,
            external_id=customer.external_id,
            name=customer.name,
            phone=customer.phone,
            region=customer.region,
            tier=customer.tier,
            first_seen_at=customer.first_seen_at,
            last_seen_at=customer.last_seen_at,
        ),
        conversations=[
            CustomerConversation(
                conversation_id=c.id,
                channel=c.channel,
                started_at=c.created_at,
                owner=str(c.owner),
                agent_name=agents.get(c.agent_id) if c.agent_id is not None else None,
                last_message_text=_shorten(last[c.id].text) if c.id in last else None,
                last_message_author=str(last[c.id].author) if c.id in last else None,
                last_message_at=last[c.id].created_at if c.id in last else None,
            )
            for c in conversations
        ],
        tickets=[CustomerTicket(t.number, str(t.state), str(t.category), t.grid_code, t.created_at) for t in tickets],
    )
