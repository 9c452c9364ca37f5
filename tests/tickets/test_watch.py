from __future__ import annotations

from sqlalchemy import select

from griddesk.db import session_scope
from tests.tickets.factories import make_ticket
from tickets.models import Alert, Category, TicketState
from tickets.service import history, transition
from tickets.watch import check_overdue


def test_a_ticket_past_its_step_deadline_is_marked_then_the_manager_alerted_15_minutes_later(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock, category=Category.FAULT)  # first response due in 30 minutes
        clock.advance(minutes=30)
        assert check_overdue(session, clock.now).marked_overdue == 0  # due now, not past
        clock.advance(minutes=1)
        report = check_overdue(session, clock.now)
        assert (report.marked_overdue, report.alerts) == (1, 0)
        session.refresh(ticket)
        assert ticket.overdue and history(session, ticket)[-1].kind == "overdue"
        clock.advance(minutes=14)
        assert check_overdue(session, clock.now).alerts == 1
        [alert] = session.scalars(select(Alert)).all()
        assert alert.grid_code == "cd-wuhou" and ticket.number in alert.message and "超时 15 分钟" in alert.message
        clock.advance(hours=1)
        assert check_overdue(session, clock.now) == check_overdue(session, clock.now)  # idempotent
        assert session.scalar(select(Alert).where(Alert.id != alert.id)) is None


def test_moving_the_ticket_on_clears_overdue_and_sets_the_next_deadline(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock)
        clock.advance(hours=1)
        check_overdue(session, clock.now)
        ticket = transition(session, ticket.number, TicketState.ANALYSING, "agent", now=clock)
        assert not ticket.overdue and ticket.step_due_at > clock.now
        assert check_overdue(session, clock.now).marked_overdue == 0


def test_resolved_and_closed_tickets_are_not_watched(settings, clock):
    with session_scope() as session:
        ticket = make_ticket(session, clock)
        for state in (TicketState.ANALYSING, TicketState.IN_PROGRESS, TicketState.RESOLVED):
            transition(session, ticket.number, state, "agent", now=clock)
        clock.advance(days=30)
        assert check_overdue(session, clock.now).marked_overdue == 0
