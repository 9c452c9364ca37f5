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

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account
from accounts.models import Account, Role
from accounts.principals import Principal
from conversations.milestones import Milestone, record_first
from conversations.models import Conversation
from griddesk.crypto import keyed_hashes
from griddesk.db import rows_changed, utcnow
from griddesk.errors import DomainError, InvalidInput
from grids.models import Grid, GridMembership
from grids.service import route_request
from tickets import access, policy
from tickets.fields import InvalidField, normalize_phone
from tickets.labels import FIELD_LABELS, STATE_LABELS
from tickets.models import PHONE, Category, Priority, Ticket, TicketEvent, TicketState, TicketStep
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


class InvalidAssignee(InvalidInput):
    """The person named is not on the staff of the ticket's grid (or cannot log in any more)."""

    def __init__(self) -> None:
        super().__init__("负责人：只能指派给本工单所属网格的客服或网格经理。", field="assignee_id")


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
    grid_code: str | None = None  # the grid that owns it (a ticket from a chat: the chat's); None = routed


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
    """Create a ticket in the grid that serves it (``new.grid_code``, else routed by region, tier and
    category), with priority and deadlines from that grid's policy."""
    created = now()
    chosen = session.get(Grid, new.grid_code) if new.grid_code else None
    grid = chosen or route_request(session, new.region, new.customer_tier, new.category)
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


def _record(session: Session, ticket: Ticket, actor: str, kind: str, note: str, now: Clock, **values: object) -> Ticket:
    """One change of ``ticket`` (``values``, guarded by its version) and its event in the audit trail."""
    entered = now()
    _bump(session, ticket, entered, **values)
    _event(session, ticket, actor, kind, note, at=entered)
    session.flush()
    session.refresh(ticket)
    return ticket


def comment(session: Session, number: str, actor: str, note: str, now: Clock = utcnow) -> Ticket:
    return _record(session, get_ticket(session, number), actor, "comment", note, now)


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
    return _record(session, ticket, actor, "approval", note, now, approved_by=actor)


ASSIGNABLE_ROLES = (Role.AGENT, Role.MANAGER)


def assignable(session: Session, grid_code: str) -> list[Account]:
    """Who a ticket of ``grid_code`` may be assigned to: active agents and managers of that grid, by name."""
    return list(
        session.scalars(
            select(Account)
            .join(GridMembership, GridMembership.account_id == Account.id)
            .where(
                GridMembership.grid_code == grid_code,
                Account.active.is_(True),
                Account.role.in_([str(role) for role in ASSIGNABLE_ROLES]),
            )
            .order_by(Account.display_name, Account.id)
        )
    )


def assign(
    session: Session,
    number: str,
    assignee_id: int | None,
    actor: str,
    expected_version: int | None = None,
    now: Clock = utcnow,
) -> Ticket:
    """Make ``assignee_id`` (an agent or manager of the ticket's grid; None = nobody) the one who works on the
    ticket; atomic, guarded by the version and audited (an ``assignment`` event naming the person). Who may
    assign whom is the caller's rule (``tickets.access.check_assign``)."""
    ticket = get_ticket(session, number)
    if expected_version is not None and expected_version != ticket.version:
        raise TicketConflict(f"ticket changed (version {ticket.version}, expected {expected_version})")
    if TicketState(ticket.state) is TicketState.CLOSED:
        raise TransitionNotAllowed(f"ticket {ticket.number} is closed", "工单已关闭，不能再指派。")
    if assignee_id == ticket.assignee_id:
        raise TransitionNotAllowed(f"ticket {ticket.number} already has this assignee", "工单的负责人没有变化。")
    if assignee_id is None:
        note = "取消指派"
    else:
        person = next((a for a in assignable(session, ticket.grid_code) if a.id == assignee_id), None)
        if person is None:
            raise InvalidAssignee()
        note = f"指派给 {person.display_name}"
    return _record(session, ticket, actor, "assignment", note, now, assignee_id=assignee_id)


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
    open_only: bool = False  # only tickets not yet resolved (已受理, 分析中, 处理中)
    category: Category | None = None
    priority: Priority | None = None
    overdue: bool | None = None
    awaiting_approval: bool = False  # only open tickets whose amount waits for the grid manager's approval
    assignee_id: int | None = None
    text: str | None = None  # a ticket number, a full contact phone, or words of the description or region
    # Set: sort by urgency as of this moment (overdue first, then the nearest step deadline) and count an open
    # ticket past its step deadline as overdue before the watch has marked it. None: most urgent priority first.
    urgent_at: datetime | None = None
    limit: int = 50
    offset: int = 0


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(text: str) -> ColumnElement[bool]:
    """Tickets a search text finds: its number, its full contact phone (by keyed hash: the phone is
    encrypted), or words in the description or the region."""
    pattern = _like(text)
    found: list[ColumnElement[bool]] = [
        Ticket.description.like(pattern, escape="\\"),
        Ticket.region.like(pattern, escape="\\"),
    ]
    number = normalize_number(text)
    if number:
        found.append(Ticket.number == number)
    try:
        phone = normalize_phone(text)
    except InvalidField:
        phone = None
    if phone:
        found.append(Ticket.contact_phone_hash.in_(keyed_hashes(PHONE, phone)))
    return or_(*found)


def _past_due(moment: datetime) -> ColumnElement[bool]:
    return and_(Ticket.state.in_(OPEN_STATES), Ticket.step_due_at.is_not(None), Ticket.step_due_at < moment)


def list_tickets(session: Session, filters: TicketFilter) -> tuple[list[Ticket], int]:
    """Tickets matching ``filters`` and the total count: most urgent and oldest first, or by urgency
    (``urgent_at``)."""
    stmt = select(Ticket)
    if filters.grid:
        stmt = stmt.where(Ticket.grid_code == filters.grid)
    if filters.within is not None:
        stmt = stmt.where(Ticket.grid_code.in_(filters.within))
    if filters.state:
        stmt = stmt.where(Ticket.state == filters.state)
    if filters.open_only:
        stmt = stmt.where(Ticket.state.in_(OPEN_STATES))
    if filters.category:
        stmt = stmt.where(Ticket.category == filters.category)
    if filters.priority:
        stmt = stmt.where(Ticket.priority == filters.priority)
    late: ColumnElement[bool] = (
        or_(Ticket.overdue.is_(True), _past_due(filters.urgent_at))
        if filters.urgent_at is not None
        else Ticket.overdue.is_(True)
    )
    if filters.overdue is not None:
        stmt = stmt.where(late if filters.overdue else ~late)
    if filters.awaiting_approval:
        stmt = stmt.where(Ticket.needs_approval.is_(True), Ticket.approved_by.is_(None), Ticket.state.in_(OPEN_STATES))
    if filters.assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == filters.assignee_id)
    if filters.text:
        stmt = stmt.where(_matching(filters.text))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rank = case(policy.PRIORITY_RANK, value=Ticket.priority, else_=len(policy.PRIORITY_RANK))
    if filters.urgent_at is not None:
        overdue_first = case((late, 0), else_=1)
        no_deadline_last = case((Ticket.step_due_at.is_(None), 1), else_=0)
        stmt = stmt.order_by(overdue_first, no_deadline_last, Ticket.step_due_at, rank, Ticket.created_at, Ticket.id)
    else:
        stmt = stmt.order_by(rank, Ticket.created_at, Ticket.id)
    return list(session.scalars(stmt.limit(filters.limit).offset(filters.offset))), total
