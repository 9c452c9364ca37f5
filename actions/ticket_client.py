"""The ticket service as the actions use it: one short session per call, plain results out.

Blocking (SQLAlchemy): actions call these with ``asyncio.to_thread``. Results are frozen
dataclasses, not ORM rows, so nothing is read from a closed session in the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from griddesk.db import session_scope
from grids.sla import SlaPolicy
from tickets import lookup, service
from tickets.lookup import LookupStatus
from tickets.models import Alert, Category, Ticket
from tickets.service import NewTicket

LISTED_LIMIT = 20


@dataclass(frozen=True)
class OpenedTicket:
    number: str
    category: Category
    grid_name: str
    policy: SlaPolicy
    needs_approval: bool
    amount_yuan: Decimal | None


@dataclass(frozen=True)
class TicketView:
    """What a customer who proved the ticket is theirs may see of it."""

    number: str
    category: str
    state: str
    grid_name: str
    step_due_at: datetime | None
    # the overdue watch has alerted the grid manager about the current step (15 minutes past its deadline)
    escalated: bool = False

    def late(self, now: datetime) -> bool:
        """Whether the current step is past its deadline."""
        return self.step_due_at is not None and self.step_due_at < now


@dataclass(frozen=True)
class LookupView:
    status: LookupStatus
    ticket: TicketView | None = None
    locked_until: datetime | None = None


def _view(session: Session, ticket: Ticket) -> TicketView:
    grid = service.grid_of(session, ticket)
    alerted = session.scalar(
        select(Alert.id).where(Alert.ticket_id == ticket.id, Alert.kind == "overdue", Alert.step == ticket.state)
    )
    return TicketView(
        ticket.number, str(ticket.category), str(ticket.state), grid.name, ticket.step_due_at, alerted is not None
    )


def known_contact(sender_id: str, customer_id: int | None) -> dict[str, str]:
    """The contact details of the latest ticket this conversation — or this verified customer, on any of
    their devices — opened: ``{"ticket_phone", "ticket_name", "ticket_region"}`` ({} when none)."""
    mine = Ticket.sender_id == sender_id
    with session_scope() as session:
        ticket = session.scalars(
            select(Ticket)
            .where(mine if customer_id is None else or_(mine, Ticket.customer_id == customer_id))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        ).first()
        if ticket is None:
            return {}
        return {
            "ticket_phone": ticket.contact_phone,
            "ticket_name": ticket.contact_name,
            "ticket_region": ticket.region,
        }


def open_ticket(new: NewTicket) -> OpenedTicket:
    with session_scope() as session:
        ticket = service.open_ticket(session, new)
        grid = service.grid_of(session, ticket)
        return OpenedTicket(
            ticket.number,
            Category(ticket.category),
            grid.name,
            grid.policy(),
            ticket.needs_approval,
            ticket.amount_yuan,
        )


def lookup_ticket(sender_id: str, number: str, last4: str, client: str | None = None) -> LookupView:
    with session_scope() as session:
        result = lookup.lookup_ticket(session, sender_id, number, last4, client)
        ticket = _view(session, result.ticket) if result.ticket is not None else None
        return LookupView(result.status, ticket, result.locked_until)


def my_tickets(sender_id: str) -> list[TicketView]:
    """The tickets this conversation may see (opened or verified here), newest first."""
    with session_scope() as session:
        return [_view(session, t) for t in lookup.my_tickets(session, sender_id, limit=LISTED_LIMIT)]


def visible_ticket(sender_id: str, number: str) -> TicketView | None:
    """One ticket this conversation may see without digits, or None."""
    with session_scope() as session:
        ticket = lookup.visible_ticket(session, sender_id, number)
        return _view(session, ticket) if ticket is not None else None


def visible_numbers(sender_id: str) -> frozenset[str]:
    with session_scope() as session:
        return lookup.visible_ticket_numbers(session, sender_id)
