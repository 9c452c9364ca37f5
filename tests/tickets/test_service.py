from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError

from accounts.models import Role
from accounts.principals import Principal
from griddesk.db import session_scope
from grids.models import Grid
from grids.sla import SERVICE_TZ
from tests.races import race
from tests.tickets.factories import make_ticket
from tickets.models import Category, Priority, Ticket, TicketEvent, TicketState
from tickets.numbers import ALPHABET, normalize_number
from tickets.service import (
    ApprovalRequired,
    NotApprover,
    TicketConflict,
    TicketNotFound,
    TransitionNotAllowed,
    approve,
    comment,
    history,
    transition,
)

# who approves is a logged-in person (a Principal), never a name: 孙悦 is the manager the seed names for billing
BILLING_MANAGER = Principal(6, "sun.yue", "孙悦", Role.MANAGER, ("billing",))
BILLING_AGENT = Principal(16, "he.jun", "何军", Role.AGENT, ("billing",))
FLOW = [TicketState.ANALYSING, TicketState.IN_PROGRESS, TicketState.RESOLVED, TicketState.CLOSED]


def test_a_new_ticket_is_routed_prioritised_and_given_its_deadlines(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock, category=Category.COMPLAINT)
        assert ticket.grid_code == "cd-wuhou"
        assert ticket.state == TicketState.ACCEPTED and ticket.priority == Priority.HIGH
        assert ticket.step_due_at == clock.now + timedelta(minutes=60)  # complaint: contact within 1 hour
        assert ticket.resolve_due_at == clock.now + timedelta(hours=24)
        [created] = history(session, ticket)
        assert (created.kind, created.to_state, created.actor) == ("created", "accepted", "customer")


def test_ticket_numbers_are_random_not_sequential(settings):
    with session_scope() as session:
        numbers = [make_ticket(session).number for _ in range(20)]
    assert len(set(numbers)) == 20
    assert all(n.startswith("GD-") and len(n) == 9 and set(n[3:]) <= set(ALPHABET) for n in numbers)
    assert numbers != sorted(numbers)
    assert normalize_number("查一下gd7k3qx9") == "GD-7K3QX9" and normalize_number("没有单号") is None


def test_key_accounts_are_served_first(settings):
    with session_scope() as session:
        assert make_ticket(session, category=Category.CONSULTATION, tier="key").priority == Priority.NORMAL
        assert make_ticket(session, category=Category.FAULT, tier="key").priority == Priority.URGENT
        assert make_ticket(session, category=Category.FAULT, tier="key").grid_code == "key-accounts"


def test_deadlines_count_working_days_over_a_weekend(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock, category=Category.BILLING, region="成都市武侯区")
        # Friday 10:00 + 2 working days (initial solution) → Tuesday 10:00
        assert ticket.resolve_due_at.astimezone(SERVICE_TZ) == clock.now + timedelta(days=4)
        suggestion = make_ticket(session, clock, category=Category.SUGGESTION)
        assert suggestion.resolve_due_at.astimezone(SERVICE_TZ) == clock.now + timedelta(days=5)  # 3 working days


def test_the_service_flow_allows_only_its_own_transitions(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock)
        with pytest.raises(TransitionNotAllowed):
            transition(session, ticket.number, TicketState.RESOLVED, "agent")
        for state in FLOW:
            clock.advance(minutes=10)
            ticket = transition(session, ticket.number, state, "agent", note=f"to {state}", now=clock)
        assert ticket.state == TicketState.CLOSED and ticket.version == 5
        for state in TicketState:
            with pytest.raises(TransitionNotAllowed):
                transition(session, ticket.number, state, "agent")
        trail = history(session, ticket)
        assert [(e.from_state, e.to_state) for e in trail if e.kind == "transition"] == [
            ("accepted", "analysing"),
            ("analysing", "in_progress"),
            ("in_progress", "resolved"),
            ("resolved", "closed"),
        ]


def test_a_resolved_ticket_can_be_reopened(settings):
    with session_scope() as session:
        ticket = make_ticket(session)
        for state in FLOW[:3]:
            transition(session, ticket.number, state, "agent")
        assert (
            transition(session, ticket.number, TicketState.IN_PROGRESS, "customer", "还是不行").state == "in_progress"
        )


def test_a_stale_version_is_a_conflict(settings):
    with session_scope() as session:
        ticket = make_ticket(session)
        with pytest.raises(TicketConflict):
            transition(session, ticket.number, TicketState.ANALYSING, "agent", expected_version=7)


def test_unknown_tickets_are_not_found(settings):
    with session_scope() as session, pytest.raises(TicketNotFound):
        transition(session, "GD-ZZZZZZ", TicketState.ANALYSING, "agent")


def test_high_amounts_need_the_grid_managers_approval_before_resolution(settings):
    with session_scope() as session:
        ticket = make_ticket(session, category=Category.REFUND, amount="5000")
        assert ticket.needs_approval and ticket.grid_code == "billing"
        small = make_ticket(session, category=Category.REFUND, amount="4999.99")
        assert not small.needs_approval
        for state in FLOW[:2]:
            transition(session, ticket.number, state, "agent")
        with pytest.raises(ApprovalRequired):
            transition(session, ticket.number, TicketState.RESOLVED, "agent")
        with pytest.raises(NotApprover):
            approve(session, ticket.number, BILLING_AGENT)
        with pytest.raises(TransitionNotAllowed):
            approve(session, small.number, BILLING_MANAGER)  # below the threshold: nothing to approve
        approve(session, ticket.number, BILLING_MANAGER, "同意退款")
        with pytest.raises(TransitionNotAllowed):
            approve(session, ticket.number, BILLING_MANAGER)  # approved once is enough
        assert ticket.approved_by == "account:6"
        assert transition(session, ticket.number, TicketState.RESOLVED, "agent").state == "resolved"
        assert [e.kind for e in history(session, ticket)][-2:] == ["approval", "transition"]
        assert history(session, ticket)[-2].actor == "account:6"


@pytest.mark.parametrize(
    "approver",
    [
        Principal(6, "sun.yue", "孙悦", Role.AGENT, ("billing",)),  # the right name, not a manager
        Principal(6, "sun.yue", "孙悦", Role.MANAGER, ("cd-wuhou",)),  # the right name, not a member
        Principal(6, "sun.yue", "孙悦", Role.ADMIN, ("billing", "cd-wuhou")),  # admins do not approve
        Principal(7, "other", "另一位经理", Role.MANAGER, ("billing",)),  # a manager of it, not the one named
    ],
)
def test_only_a_manager_member_the_grid_names_approves(settings, approver):
    with session_scope() as session:
        ticket = make_ticket(session, category=Category.REFUND, amount="5000")
        with pytest.raises(NotApprover):
            approve(session, ticket.number, approver)
        assert ticket.approved_by is None
        by_username = Principal(7, "deputy.sun", "孙副经理", Role.MANAGER, ("billing",))
        session.execute(update(Grid).where(Grid.code == "billing").values(manager="deputy.sun"))
        assert approve(session, ticket.number, by_username).approved_by == "account:7"


def test_someone_who_may_not_approve_learns_nothing_of_the_ticket(settings):
    with session_scope() as session:
        small = make_ticket(session, category=Category.REFUND, amount="100")
        with pytest.raises(NotApprover):  # not "needs no approval": the check of who comes first
            approve(session, small.number, BILLING_AGENT)


def test_comments_are_recorded_in_the_trail(settings):
    with session_scope() as session:
        ticket = make_ticket(session)
        comment(session, ticket.number, "agent", "已联系客户")
        assert history(session, ticket)[-1].note == "已联系客户"


def test_the_audit_trail_cannot_be_edited_or_deleted(settings):
    with session_scope() as session:
        make_ticket(session)
    with pytest.raises(DatabaseError, match="append-only"), session_scope() as session:
        session.execute(text("UPDATE ticket_event SET actor = 'someone else'"))
    with pytest.raises(DatabaseError, match="append-only"), session_scope() as session:
        session.execute(text("DELETE FROM ticket_event"))


def test_two_concurrent_transitions_one_wins_the_other_conflicts(settings):
    with session_scope() as session:
        number = make_ticket(session).number
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(actor: str) -> None:
        try:
            with session_scope() as session:
                session.scalar(select(Ticket).where(Ticket.number == number))  # both read version 1
                barrier.wait()
                transition(session, number, TicketState.ANALYSING, actor, expected_version=1)
            outcomes.append("ok")
        except (TicketConflict, TransitionNotAllowed) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=move, args=(f"agent-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["TicketConflict", "ok"], ["TransitionNotAllowed", "ok"])
    with session_scope() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        events = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "transition")
        ).all()
    assert ticket.version == 2 and len(events) == 1


def test_a_ticket_opened_in_a_verified_customers_conversation_is_theirs(settings):
    from tests.factories import customer_of, make_conversation, make_customer

    with session_scope() as session:
        make_conversation(session, "verified-1", customer=make_customer("u-1001", tier="key"))
        make_conversation(session, "anonymous-1")
        mine = make_ticket(session, sender_id="verified-1")
        anonymous = make_ticket(session, sender_id="anonymous-1")
        by_api = make_ticket(session, sender_id=None)
        assert mine.customer_id == customer_of(session, "u-1001").id
        assert anonymous.customer_id is None and by_api.customer_id is None


def test_eight_agents_moving_one_ticket_at_once_from_the_same_version_let_exactly_one_through(settings):
    with session_scope() as session:
        number = make_ticket(session).number

    def move(actor: str) -> str:
        try:
            with session_scope() as session:
                transition(session, number, TicketState.ANALYSING, actor, expected_version=1)
            return "ok"
        except (TicketConflict, TransitionNotAllowed) as exc:
            return type(exc).__name__

    outcomes = race([lambda actor=f"agent-{i}": move(actor) for i in range(8)])
    assert outcomes.count("ok") == 1
    assert all(o in ("ok", "TicketConflict", "TransitionNotAllowed") for o in outcomes), outcomes
    with session_scope() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        events = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "transition")
        ).all()
    assert (ticket.version, ticket.state, len(events)) == (2, TicketState.ANALYSING, 1)
