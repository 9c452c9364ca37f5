"""The facts the KPI queries read from the rows, rebuilt from the records they summarise.

The features keep them as they write (``conversations.milestones``, ``handoff.assignment.accept``,
``tickets.service``, ``tickets.watch``); migration 0008s filled them for the rows before it. ``rebuild``
recomputes every one of them from the records (ownership events, handoffs, 没帮助 misses, tickets and their
audit trail): for rows written around the services (``python -m reports demo-data`` bulk-inserts, a test's
hand-made month) and as the reference the tests hold the services' upkeep to. Idempotent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Update, and_, case, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from conversations.models import Conversation
from handoff.models import Handoff, OwnershipEvent
from knowledge_base.models import Miss
from tickets.models import Ticket, TicketEvent, TicketState, TicketStep

TRANSITION = "transition"


def rebuild(session: Session) -> None:
    """Every fact of every row, from the records (the caller commits)."""
    _handoffs(session)
    _conversations(session)
    _tickets(session)
    _steps(session)
    session.flush()


def _set(session: Session, statement: Update) -> None:
    session.execute(statement.execution_options(synchronize_session=False))


def _handoffs(session: Session) -> None:
    first = (
        select(func.min(OwnershipEvent.created_at))
        .where(OwnershipEvent.handoff_id == Handoff.id, OwnershipEvent.to_owner == "human")
        .scalar_subquery()
    )
    _set(session, update(Handoff).values(first_accepted_at=first))


def _conversations(session: Session) -> None:
    handed = select(func.min(Handoff.created_at)).where(Handoff.conversation_id == Conversation.id)
    unhelpful = select(func.min(Miss.created_at)).where(
        Miss.sender_id == Conversation.sender_id, Miss.kind == "unhelpful"
    )
    ticketed = select(func.min(Ticket.created_at)).where(Ticket.sender_id == Conversation.sender_id)
    _set(
        session,
        update(Conversation).values(
            first_handoff_at=handed.scalar_subquery(),
            first_unhelpful_at=unhelpful.scalar_subquery(),
            first_ticket_at=ticketed.scalar_subquery(),
        ),
    )


def _first_event(*conditions: ColumnElement[bool]) -> ScalarSelect[datetime]:
    return select(func.min(TicketEvent.at)).where(TicketEvent.ticket_id == Ticket.id, *conditions).scalar_subquery()


def _tickets(session: Session) -> None:
    transition = TicketEvent.kind == TRANSITION
    _set(
        session,
        update(Ticket).values(
            responded_at=_first_event(transition, TicketEvent.from_state == TicketState.ACCEPTED.value),
            first_resolved_at=_first_event(transition, TicketEvent.to_state == TicketState.RESOLVED.value),
            reopened_at=_first_event(
                transition,
                TicketEvent.from_state == TicketState.RESOLVED.value,
                TicketEvent.to_state == TicketState.IN_PROGRESS.value,
            ),
            first_overdue_at=_first_event(TicketEvent.kind == "overdue"),
        ),
    )
    other = aliased(Ticket)
    repeat = (
        select(func.min(other.created_at))
        .where(
            other.contact_phone_hash == Ticket.contact_phone_hash,
            other.id != Ticket.id,
            other.created_at > Ticket.first_resolved_at,
        )
        .scalar_subquery()
    )
    _set(session, update(Ticket).values(repeat_contact_at=repeat))


def _steps(session: Session) -> None:
    """One ticket_step per transition event: entered at the transition into its state (created_at for
    accepted), late when an overdue event of that state falls inside the visit."""
    session.execute(delete(TicketStep))
    entry, overdue = aliased(TicketEvent), aliased(TicketEvent)
    entered = case(
        (TicketEvent.from_state == TicketState.ACCEPTED.value, Ticket.created_at),
        else_=select(func.max(entry.at))
        .where(
            entry.ticket_id == TicketEvent.ticket_id,
            entry.kind == TRANSITION,
            entry.to_state == TicketEvent.from_state,
            entry.at <= TicketEvent.at,
            entry.id < TicketEvent.id,
        )
        .scalar_subquery(),
    )
    visits = (
        select(
            TicketEvent.id,
            TicketEvent.ticket_id,
            Ticket.grid_code,
            Ticket.category,
            TicketEvent.from_state,
            TicketEvent.to_state,
            entered.label("entered_at"),
            TicketEvent.at,
            Ticket.resolve_due_at,
        )
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == TRANSITION)
        .subquery()
    )
    late = exists().where(
        overdue.ticket_id == visits.c.ticket_id,
        overdue.kind == "overdue",
        overdue.from_state == visits.c.from_state,
        overdue.at >= visits.c.entered_at,
        overdue.at <= visits.c.at,
    )
    resolution = and_(visits.c.to_state == TicketState.RESOLVED.value, visits.c.resolve_due_at.is_not(None))
    on_time = case(  # NULL for other steps
        (and_(resolution, visits.c.at <= visits.c.resolve_due_at), True), (resolution, False)
    )
    rows = (
        select(
            visits.c.ticket_id,
            visits.c.grid_code,
            visits.c.category,
            visits.c.from_state,
            visits.c.to_state,
            visits.c.entered_at,
            visits.c.at,
            case((late, True), else_=False),
            on_time,
        )
        .where(visits.c.entered_at.is_not(None))
        .order_by(visits.c.id)
    )
    session.execute(
        insert(TicketStep).from_select(
            ["ticket_id", "grid_code", "category", "from_state", "to_state", "entered_at", "at", "late", "on_time"],
            rows,
        )
    )
