"""The ticket service: open, move through the service flow, comment, approve (customers' lookups: ``tickets.lookup``).

Every change writes an event to the append-only audit trail. Changes to one ticket are atomic and
guarded by its version: of two concurrent changes one wins, the other raises ``TicketConflict``.
Services return models or outcomes and never talk to users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account
from accounts.principals import Principal
from conversations.milestones import Milestone, record_first
from conversations.models import Conversation
from griddesk.db import rows_changed, utcnow
from griddesk.errors import DomainError
from grids.models import Grid
from grids.service import route_request
from tickets import access, policy
from tickets.labels import FIELD_LABELS, STATE_LABELS
from tickets.models import Category, Priority, Ticket, TicketEvent, TicketState, TicketStep
from tickets.numbers import new_number, normalize_number

ALLOWED: dict[TicketState, frozenset[TicketState]] = {
    TicketState.ACCEPTED: frozenset({TicketState.ANALYSING}),
    TicketState.ANALYSING: frozenset({TicketState.IN_PROGRESS}),
    TicketState.IN_PROGRESS: frozenset({TicketState.RESOLVED}),
    TicketState.RESOLVED: frozenset(
        {TicketState.CLOSED, TicketState.IN_PROGRESS}
    ),  # closed after feedback, or reopened
    TicketState.CLOSED: frozenset(),
}
OPEN_STATES = (TicketState.ACCEPTED, TicketState.ANALYSING, TicketState.IN_PROGRESS)

Clock = Callable[[], datetime]


class TicketError(DomainError):
    """Base of the ticket service's errors: a stable ``code`` and a Chinese message; ``detail`` is for logs."""

    code = "ticket_error"
    default_message = "无法完成对工单的操作"

    def __init__(self, detail: str = "", message: str = "") -> None:
        super().__init__(message or self.default_message)
        self.detail = detail


class TicketNotFound(TicketError):
    code = "ticket_not_found"
    default_message = "找不到该工单"


class TransitionNotAllowed(TicketError):
    code = "transition_not_allowed"
    default_message = "工单当前状态不允许这一步"


class TicketConflict(TicketError):
    code = "ticket_conflict"
    default_message = "工单已被他人修改，请刷新后重试"


class ApprovalRequired(TicketError):
    code = "approval_required"
    default_message = "金额达到审批线，须由网格经理审批后才能办结"


class NotApprover(TicketError):
    code = "not_approver"
    default_message = "只有工单所属网格的网格经理可以审批"


@dataclass(frozen=True)
class NewTicket:
    category: Category
    description: str
    contact_phone: str
    contact_name: str
    region: str
    amount_yuan: Decimal | None = None
    customer_tier: str = "general"
    sender_id: str | None = None


def _event(
    session: Session,
    ticket: Ticket,
    actor: str,
    kind: str,
    note: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            actor=actor,
            kind=kind,
            note=note,
            from_state=from_state,
            to_state=to_state,
            at=at or utcnow(),
        )
    )


def open_ticket(session: Session, new: NewTicket, actor: str = "customer", now: Clock = utcnow) -> Ticket:
    """Create a ticket in the grid that serves it, with priority and deadlines from that grid's policy."""
    created = now()
    grid = route_request(session, new.region, new.customer_tier, new.category)
    rules = grid.policy()
    ticket = Ticket(
        category=new.category,
        description=new.description,
        contact_phone=new.contact_phone,
        contact_name=new.contact_name,
        region=new.region,
        amount_yuan=new.amount_yuan,
        customer_tier=new.customer_tier,
        grid_code=grid.code,
        priority=policy.priority_for(new.category, new.customer_tier),
        state=TicketState.ACCEPTED,
        sender_id=new.sender_id,
        needs_approval=policy.needs_approval(new.amount_yuan, rules),
        step_due_at=policy.first_response_due(new.category, created, rules),
        resolve_due_at=policy.resolve_due(new.category, created, rules),
        created_at=created,
        updated_at=created,
    )
    if new.sender_id:
        # the verified customer of the conversation it is opened in (the customer's record lists it)
        ticket.customer_id = session.scalar(
            select(Conversation.customer_id).where(Conversation.sender_id == new.sender_id)
        )
    number = new_number()
    while session.scalar(select(Ticket.id).where(Ticket.number == number)) is not None:
        number = new_number()  # a clash among 887 million numbers is rare; the unique index guards the rest
    ticket.number = number
    session.add(ticket)
    session.flush()
    _event(session, ticket, actor, "created", to_state=TicketState.ACCEPTED, at=created)
    _record_contact(session, ticket)
    session.flush()
    return ticket


def _record_contact(session: Session, ticket: Ticket) -> None:
    """What a new ticket tells the reports: its conversation's first ticket, and a repeat contact for the
    same phone's tickets resolved before it (the first such contact after each one's first resolution)."""
    if ticket.sender_id:
        record_first(session, ticket.sender_id, Milestone.TICKET, ticket.created_at)
    session.execute(
        update(Ticket)
        .where(
            Ticket.contact_phone_hash == ticket.contact_phone_hash,
            Ticket.id != ticket.id,
            Ticket.first_resolved_at < ticket.created_at,
            Ticket.repeat_contact_at.is_(None),
        )
        .values(repeat_contact_at=ticket.created_at)
        .execution_options(synchronize_session=False)
    )


def get_ticket(session: Session, number: str) -> Ticket:
    normalized = normalize_number(number)
    # populate_existing: always the row as it is now, even if this session loaded it before a change
    stmt = select(Ticket).where(Ticket.number == normalized).execution_options(populate_existing=True)
    ticket = session.scalar(stmt) if normalized else None
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


def grid_of(session: Session, ticket: Ticket) -> Grid:
    grid = session.get(Grid, ticket.grid_code)
    assert grid is not None  # foreign key
    return grid


def transition(
    session: Session,
    number: str,
    to_state: TicketState,
    actor: str,
    note: str = "",
    expected_version: int | None = None,
    now: Clock = utcnow,
) -> Ticket:
    """Move a ticket to ``to_state`` if the service flow allows it; atomic and audited."""
    ticket = get_ticket(session, number)
    current = TicketState(ticket.state)
    if to_state not in ALLOWED[current]:
        raise TransitionNotAllowed(
            f"{current} → {to_state}", f"工单当前状态不允许这一步：{STATE_LABELS[current]} → {STATE_LABELS[to_state]}"
        )
    if expected_version is not None and expected_version != ticket.version:
        raise TicketConflict(f"ticket changed (version {ticket.version}, expected {expected_version})")
    if to_state is TicketState.RESOLVED and ticket.needs_approval and not ticket.approved_by:
        raise ApprovalRequired(ticket.number)
    entered = now()
    rules = grid_of(session, ticket).policy()
    due = policy.step_due(to_state, Category(ticket.category), ticket.created_at, entered, rules)
    changed = rows_changed(
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.version == ticket.version, Ticket.state == current)
            .values(
                state=to_state,
                version=Ticket.version + 1,
                step_due_at=due,
                overdue=False,
                updated_at=entered,
                **_firsts(ticket, current, to_state, entered),
            )
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise TicketConflict(f"ticket {ticket.number} was changed by someone else")
    _event(session, ticket, actor, "transition", note, from_state=current, to_state=to_state, at=entered)
    _record_step(session, ticket, current, to_state, entered)
    session.flush()
    session.refresh(ticket)
    return ticket


def _firsts(ticket: Ticket, current: TicketState, to_state: TicketState, at: datetime) -> dict[str, datetime]:
    """The reports' first response, first resolution and first reopening this transition sets, if it is one."""
    firsts: dict[str, datetime] = {}
    if current is TicketState.ACCEPTED and ticket.responded_at is None:
        firsts["responded_at"] = at
    if to_state is TicketState.RESOLVED and ticket.first_resolved_at is None:
        firsts["first_resolved_at"] = at
    if current is TicketState.RESOLVED and to_state is TicketState.IN_PROGRESS and ticket.reopened_at is None:
        firsts["reopened_at"] = at
    return firsts


def _record_step(session: Session, ticket: Ticket, current: TicketState, to_state: TicketState, at: datetime) -> None:
    """The step the ticket just finished (``ticket`` as it was before the transition): late when the overdue
    watch marked it, on time (resolutions) when by ``resolve_due_at``."""
    entered = ticket.created_at
    if current is not TicketState.ACCEPTED:
        entered = (
            session.scalar(
                select(func.max(TicketStep.at)).where(TicketStep.ticket_id == ticket.id, TicketStep.to_state == current)
            )
            or ticket.created_at
        )
    on_time = None
    if to_state is TicketState.RESOLVED and ticket.resolve_due_at is not None:
        on_time = at <= ticket.resolve_due_at
    session.add(
        TicketStep(
            ticket_id=ticket.id,
            grid_code=ticket.grid_code,
            category=ticket.category,
            from_state=current,
            to_state=to_state,
            entered_at=entered,
            at=at,
            late=bool(ticket.overdue),
            on_time=on_time,
        )
    )


def _bump(session: Session, ticket: Ticket, entered: datetime, **values: object) -> None:
    changed = rows_changed(
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
            .values(version=Ticket.version + 1, updated_at=entered, **values)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise TicketConflict(f"ticket {ticket.number} was changed by someone else")


def comment(session: Session, number: str, actor: str, note: str, now: Clock = utcnow) -> Ticket:
    ticket = get_ticket(session, number)
    entered = now()
    _bump(session, ticket, entered)
    _event(session, ticket, actor, "comment", note, at=entered)
    session.flush()
    session.refresh(ticket)
    return ticket


def approve(session: Session, number: str, approver: Principal, note: str = "", now: Clock = utcnow) -> Ticket:
    """The grid manager approves a high-value resolution (amount ≥ the grid's approval threshold).

    Who approves is a logged-in person, never a name: ``approver`` must be the grid's manager
    (``tickets.access.may_approve``); ``approved_by`` and the event record ``account:<id>``.
    """
    ticket = get_ticket(session, number)
    if not access.may_approve(approver, grid_of(session, ticket)):  # first: others learn nothing of the ticket
        raise NotApprover(f"account {approver.account_id} is not the manager of grid {ticket.grid_code}")
    if not ticket.needs_approval or ticket.approved_by:
        raise TransitionNotAllowed(
            f"ticket {ticket.number} needs no approval or is approved already", "这张工单无需审批或已经审批过了"
        )
    if TicketState(ticket.state) not in OPEN_STATES:
        raise TransitionNotAllowed(
            f"ticket {ticket.number} is {ticket.state}: nothing to approve", "工单已办结，无需审批"
        )
    actor = actor_for_account(approver.account_id)
    entered = now()
    _bump(session, ticket, entered, approved_by=actor)
    _event(session, ticket, actor, "approval", note, at=entered)
    session.flush()
    session.refresh(ticket)
    return ticket


CONTACT_FIELDS = ("contact_phone", "contact_name")
REVEAL = "reveal"


def reveal_contact(session: Session, number: str, actor: str, now: Clock = utcnow) -> Ticket:
    """The ticket whose contact details ``actor`` is about to see in full, the view recorded in its
    audit trail (who, which fields, when). Lists show them masked and record nothing."""
    ticket = get_ticket(session, number)
    note = "查看了" + "、".join(FIELD_LABELS[name] for name in CONTACT_FIELDS)
    _event(session, ticket, actor, REVEAL, note, at=now())
    session.flush()
    return ticket


def history(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))


@dataclass(frozen=True)
class TicketFilter:
    grid: str | None = None
    within: tuple[str, ...] | None = None  # only tickets of these grids (a person's grids); None = all
    state: TicketState | None = None
    priority: Priority | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0


def list_tickets(session: Session, filters: TicketFilter) -> tuple[list[Ticket], int]:
    """Tickets matching ``filters``, most urgent and oldest first, and the total count."""
    stmt = select(Ticket)
    if filters.grid:
        stmt = stmt.where(Ticket.grid_code == filters.grid)
    if filters.within is not None:
        stmt = stmt.where(Ticket.grid_code.in_(filters.within))
    if filters.state:
        stmt = stmt.where(Ticket.state == filters.state)
    if filters.priority:
        stmt = stmt.where(Ticket.priority == filters.priority)
    if filters.overdue is not None:
        stmt = stmt.where(Ticket.overdue == filters.overdue)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rank = case(policy.PRIORITY_RANK, value=Ticket.priority, else_=len(policy.PRIORITY_RANK))
    page = stmt.order_by(rank, Ticket.created_at, Ticket.id).limit(filters.limit).offset(filters.offset)
    return list(session.scalars(page)), total
