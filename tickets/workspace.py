"""What the staff's tickets workspace reads (no HTTP): a ticket within a person's grids, the people and
customer around it, the conversation it came from, the steps it may take next, and each grid's ticket
counts for the manager board. Changes go through ``tickets.service``; nothing here writes.

Scope: a ticket outside the person's grids is *not found* (``TicketNotFound``), exactly like a number that
names nothing, so the workspace never tells anyone that another grid's ticket exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from accounts.actors import INTEGRATION_PREFIX, account_id_of
from accounts.directory import account_names
from accounts.principals import Principal
from conversations.models import Conversation, Message
from customers.models import Customer
from tickets import access
from tickets.labels import ACTOR_LABELS
from tickets.models import Ticket, TicketEvent, TicketState
from tickets.service import ALLOWED, OPEN_STATES, TicketNotFound, get_ticket


def visible_ticket(session: Session, principal: Principal, number: str) -> Ticket:
    """The ticket, when it is in one of this person's grids (admins: any); ``TicketNotFound`` otherwise."""
    ticket = get_ticket(session, number)
    if not access.serves(principal, ticket.grid_code):
        raise TicketNotFound(f"ticket {ticket.number} is outside the grids of account {principal.account_id}")
    return ticket


def next_steps(ticket: Ticket) -> list[TicketState]:
    """The states the service flow allows next, forward steps in the flow's order, going back (reopening) last."""
    order = list(TicketState)
    here = order.index(TicketState(ticket.state))
    return sorted(
        ALLOWED[order[here]], key=lambda state: order.index(state) + (len(order) if order.index(state) < here else 0)
    )


def is_late(ticket: Ticket, now: datetime) -> bool:
    """Overdue: marked by the watch, or an open ticket already past its step deadline."""
    due = ticket.step_due_at
    return bool(ticket.overdue) or (TicketState(ticket.state) in OPEN_STATES and due is not None and due < now)


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """How the trail names each actor: staff by display name, the token by its name, the rest by label."""
    actors = set(actors)
    ids = {actor: account_id_of(actor) for actor in actors}
    names = account_names(session, (i for i in ids.values() if i is not None))
    shown = {}
    for actor, account_id in ids.items():
        if account_id is not None:
            shown[actor] = names.get(account_id, f"账号 #{account_id}")
        elif actor.startswith(INTEGRATION_PREFIX):
            shown[actor] = f"集成接口（{actor[len(INTEGRATION_PREFIX) :]}）"
        else:
            shown[actor] = ACTOR_LABELS.get(actor, actor)
    return shown


@dataclass(frozen=True)
class Origin:
    """A conversation a ticket came from (opened in it by the bot, or by an agent from the chat)."""

    conversation_id: int
    channel: str
    started_at: datetime
    messages: int


def origins(session: Session, ticket: Ticket) -> list[Origin]:
    if not ticket.sender_id:
        return []
    rows = session.execute(
        select(Conversation.id, Conversation.channel, Conversation.created_at, Conversation.last_seq).where(
            Conversation.sender_id == ticket.sender_id
        )
    ).all()
    return [Origin(row.id, row.channel, row.created_at, row.last_seq) for row in rows]


def origin_messages(session: Session, ticket: Ticket, conversation_id: int, after: int, limit: int) -> list[Message]:
    """The transcript of a conversation the ticket came from; any other conversation is ``OriginNotFound``
    (the workspace reads no transcript but those of its tickets)."""
    if conversation_id not in {origin.conversation_id for origin in origins(session, ticket)}:
        raise OriginNotFound()
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.seq > after)
            .order_by(Message.seq)
            .limit(limit)
        )
    )


class OriginNotFound(TicketNotFound):
    code = "not_found"
    default_message = "这张工单不是从该会话登记的。"


def customer_of(session: Session, ticket: Ticket) -> Customer | None:
    """The verified customer record (customers/) of the conversation the ticket was opened in, if any."""
    return session.get(Customer, ticket.customer_id) if ticket.customer_id is not None else None


@dataclass
class GridTickets:
    """One grid's tickets as the manager board counts them."""

    by_state: dict[str, int] = field(default_factory=lambda: {str(state): 0 for state in TicketState})
    overdue: int = 0  # open and late (marked, or past the step deadline)
    awaiting_approval: int = 0  # open, amount at or above the threshold, not approved yet


def grid_ticket_counts(session: Session, grid_codes: Sequence[str] | None, now: datetime) -> dict[str, GridTickets]:
    """Every grid's ticket counts (``grid_codes`` None = all grids), in two grouped queries."""
    scope = [] if grid_codes is None else [Ticket.grid_code.in_(list(grid_codes))]
    counts: dict[str, GridTickets] = {}
    for code, state, count in session.execute(
        select(Ticket.grid_code, Ticket.state, func.count()).where(*scope).group_by(Ticket.grid_code, Ticket.state)
    ):
        counts.setdefault(code, GridTickets()).by_state[str(state)] = count
    is_open = Ticket.state.in_(OPEN_STATES)
    late = and_(is_open, or_(Ticket.overdue.is_(True), Ticket.step_due_at < now))
    waiting = and_(is_open, Ticket.needs_approval.is_(True), Ticket.approved_by.is_(None))
    for code, overdue, awaiting in session.execute(
        select(
            Ticket.grid_code,
            func.count().filter(late),
            func.count().filter(waiting),
        )
        .where(*scope, is_open)
        .group_by(Ticket.grid_code)
    ):
        grid = counts.setdefault(code, GridTickets())
        grid.overdue, grid.awaiting_approval = overdue, awaiting
    return counts


def ticket_numbers(session: Session, ticket_ids: Iterable[int]) -> dict[int, str]:
    """The numbers of these tickets, in one query (alerts name tickets by id)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids)))
    return {row.id: row.number for row in rows}


NEWS_KINDS_SKIPPED = frozenset({"reveal"})  # someone looked: nothing on the ticket changed


@dataclass(frozen=True)
class TicketChange:
    """An event of the audit trail, as news for open workspaces."""

    event_id: int
    number: str
    grid_code: str
    kind: str


def latest_event_id(session: Session) -> int:
    return session.scalar(select(func.max(TicketEvent.id))) or 0


def changes_after(session: Session, after: int, limit: int = 500) -> tuple[int, list[TicketChange]]:
    """The trail's events after id ``after`` (at most ``limit``; the rest come next time) and the last id read.

    Every change of a ticket writes an event, whichever process made it (the gateway, the action server
    opening a ticket in chat, the overdue watch, another replica), so this one read sees them all."""
    rows = session.execute(
        select(TicketEvent.id, TicketEvent.kind, Ticket.number, Ticket.grid_code)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.id > after)
        .order_by(TicketEvent.id)
        .limit(limit)
    ).all()
    last = rows[-1].id if rows else after
    return last, [TicketChange(r.id, r.number, r.grid_code, r.kind) for r in rows if r.kind not in NEWS_KINDS_SKIPPED]
