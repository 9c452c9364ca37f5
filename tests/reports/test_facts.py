"""The facts the KPI queries read (docs/kpis.md, "Facts kept on the rows"): the services keep them as they write,
and they always equal what ``reports.facts.rebuild`` and migration 0008s compute from the records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.milestones import Milestone, record_first
from conversations.models import Conversation
from griddesk import db as db_module
from griddesk.db import session_scope
from griddesk.settings import get_settings
from grids.service import load_grids
from handoff.assignment import accept, transfer
from handoff.models import Handoff
from knowledge_base.inbox import log_unhelpful
from ops.setup_db import alembic_config
from reports.facts import rebuild
from reports.kpis import compute, window_of
from tests.factories import make_account, make_conversation, make_handoff
from tests.reports.fixture import build
from tests.tickets.conftest import FakeClock
from tickets.models import Category, Ticket, TicketState, TicketStep
from tickets.service import NewTicket, open_ticket, transition
from tickets.watch import check_overdue

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def facts(session: Session) -> dict[str, Any]:
    """Every fact of every row, in a comparable form."""
    session.expire_all()
    return {
        "conversations": session.execute(
            select(
                Conversation.sender_id,
                Conversation.first_handoff_at,
                Conversation.first_unhelpful_at,
                Conversation.first_ticket_at,
            ).order_by(Conversation.id)
        ).all(),
        "handoffs": session.execute(select(Handoff.id, Handoff.first_accepted_at).order_by(Handoff.id)).all(),
        "tickets": session.execute(
            select(
                Ticket.number,
                Ticket.responded_at,
                Ticket.first_resolved_at,
                Ticket.reopened_at,
                Ticket.first_overdue_at,
                Ticket.repeat_contact_at,
            ).order_by(Ticket.id)
        ).all(),
        "steps": session.execute(
            select(
                TicketStep.ticket_id,
                TicketStep.grid_code,
                TicketStep.category,
                TicketStep.from_state,
                TicketStep.to_state,
                TicketStep.entered_at,
                TicketStep.at,
                TicketStep.late,
                TicketStep.on_time,
            ).order_by(TicketStep.ticket_id, TicketStep.at, TicketStep.id)
        ).all(),
    }


def _ticket(session: Session, clock: FakeClock, phone: str, sender: str | None, category: str = "fault") -> Ticket:
    new = NewTicket(
        category=Category(category),
        description="宽带断网",
        contact_phone=phone,
        contact_name="张三",
        region="成都市武侯区",
        sender_id=sender,
    )
    return open_ticket(session, new, now=clock)


def _move(session: Session, clock: FakeClock, number: str, *states: TicketState, every: timedelta = H) -> None:
    for state in states:
        clock.now += every
        transition(session, number, state, "account:1", now=clock)


def test_the_services_keep_every_fact_as_the_records_give_it(settings):
    clock = FakeClock(NOW)
    acc, ana, inp, res, clo = (TicketState(s) for s in ("accepted", "analysing", "in_progress", "resolved", "closed"))
    with session_scope() as session:
        first = make_account(session, "a1", grids=["cd-wuhou", "billing"])
        second = make_account(session, "b1", grids=["billing"])
        make_conversation(session, "c-1")
        handoff = make_handoff(session, "c-1", now=NOW)
        accept(session, handoff.id, first.id, NOW + M)
        transfer(session, handoff.id, first.id, NOW + 2 * M, to_grid="billing", note="账单问题")
        accept(session, handoff.id, second.id, NOW + 3 * M)
        log_unhelpful(session, "发票怎么开", None, "c-1")
        make_conversation(session, "c-2")

        t1 = _ticket(session, clock, "13800000001", "c-1")
        clock.now += 2 * H  # past the accepted step's deadline: the watch marks it
        check_overdue(session, clock.now)
        _move(session, clock, t1.number, ana, inp, res, inp, res, clo)
        clock.now = t1.created_at + 2 * D
        t2 = _ticket(session, clock, "13800000001", None, "complaint")  # the same phone after T1's resolution
        t3 = _ticket(session, clock, "13800000009", "c-2")
        _move(session, clock, t3.number, ana, every=10 * M)
        maintained = facts(session)

        rebuild(session)
        assert facts(session) == maintained
        session.refresh(handoff)
        assert (handoff.first_accepted_at, handoff.accepted_at) == (NOW + M, NOW + 3 * M)
        c1 = session.scalars(select(Conversation).where(Conversation.sender_id == "c-1")).one()
        assert (c1.first_handoff_at, c1.first_ticket_at) == (NOW, t1.created_at)
        assert c1.first_unhelpful_at is not None
        session.refresh(t1)
        assert t1.responded_at == t1.created_at + 3 * H
        assert (t1.first_resolved_at, t1.reopened_at) == (t1.created_at + 5 * H, t1.created_at + 6 * H)
        assert t1.first_overdue_at == t1.created_at + 2 * H and t1.repeat_contact_at == t2.created_at
        steps = [(s.from_state, s.to_state, s.late, s.on_time) for s in maintained["steps"] if s.ticket_id == t1.id]
        assert steps == [
            (acc, ana, True, None),
            (ana, inp, False, None),
            (inp, res, False, True),
            (res, inp, False, None),
            (inp, res, False, True),
            (res, clo, False, None),
        ]


def test_a_milestone_keeps_the_earliest_time_whatever_the_order_it_is_told(settings):
    with session_scope() as session:
        make_conversation(session, "c-1")
        record_first(session, "c-1", Milestone.TICKET, NOW + H)
        record_first(session, "c-1", Milestone.TICKET, NOW)
        record_first(session, "c-1", Milestone.TICKET, NOW + 2 * H)
        record_first(session, "nobody", Milestone.TICKET, NOW)  # no such conversation: nothing
        session.expire_all()
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.first_ticket_at == NOW and conversation.first_handoff_at is None


def test_migration_0008s_backfills_the_facts_of_rows_written_before_it(tmp_path, monkeypatch):
    path = tmp_path / "griddesk.db"
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GRIDDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    db_module.reset_engine()
    config = alembic_config(f"sqlite:///{path}")
    command.upgrade(config, "head")
    try:
        with session_scope() as session:
            load_grids(session)
            build(session)  # the hand-computed month of test_kpis, its facts rebuilt
            expected = facts(session)
        db_module.reset_engine()
        before = ScriptDirectory.from_config(config).get_revision("0008s").down_revision
        assert isinstance(before, str)
        command.downgrade(config, before)  # the facts are gone, the records stay
        command.upgrade(config, "head")
        db_module.reset_engine()
        with session_scope() as session:
            assert facts(session) == expected
            march = window_of(date(2026, 3, 1), date(2026, 3, 31), ("cd-wuhou",), datetime(2026, 6, 1, tzinfo=UTC))
            total = compute(session, march)[""]
        assert (total["bot_resolved"], total["sla_compliance_rate"], total["first_contact_resolution_rate"]) == (
            1,
            0.75,
            0.5,
        )
    finally:
        db_module.reset_engine()
        get_settings.cache_clear()
