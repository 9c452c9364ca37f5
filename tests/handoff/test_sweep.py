from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conversations.models import Conversation
from griddesk.db import session_scope
from handoff.assignment import accept, record_agent_message
from handoff.models import OwnershipEvent
from handoff.queue import queue_status, touch_customer
from handoff.sweep import SweepReport, open_alerts, sweep
from tests.factories import make_account, make_handoff
from tickets.models import Alert

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
NOTHING = SweepReport([], [], [])


def later(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


def swept(session, at: datetime, *senders: str) -> SweepReport:
    """Sweep at ``at`` while the customers ``senders`` still have their page open."""
    for sender in senders:
        touch_customer(session, sender, at)
    return sweep(session, at)


def owner_of(session, sender="customer-1") -> tuple[str, str | None]:
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender)).one()
    session.refresh(conversation)
    return conversation.owner, conversation.grid_code


def test_a_customer_waiting_past_the_overflow_time_moves_to_the_overflow_grid(settings):
    with session_scope() as session:
        handoff = make_handoff(session, now=NOW)
        assert swept(session, later(seconds=180), "customer-1").overflowed == []
        report = swept(session, later(seconds=181), "customer-1")
        assert report.overflowed == [handoff.id]
        assert owner_of(session) == ("queued", "cd-city")
        session.refresh(handoff)
        assert (handoff.grid_code, handoff.queued_at) == ("cd-city", later(seconds=181))
        assert handoff.packet["notes"][0]["to_grid"] == "cd-city"
        event = session.scalars(select(OwnershipEvent).order_by(OwnershipEvent.id.desc())).first()
        assert (event.from_owner, event.to_owner, event.actor, event.grid_code) == (
            "queued",
            "queued",
            "system",
            "cd-city",
        )
        assert queue_status(session, "customer-1", later(seconds=181)).grid_name == "成都市网格"
        assert swept(session, later(seconds=200), "customer-1").overflowed == []  # the wait restarts there
        assert swept(session, later(seconds=362), "customer-1").overflowed == [handoff.id]
        assert owner_of(session) == ("queued", "central")


def test_each_grid_has_its_own_overflow_time_and_the_last_grid_keeps_its_customers(settings):
    with session_scope() as session:
        billing = make_handoff(session, "c1", grid="billing", now=NOW)
        make_handoff(session, "c2", grid="cd-wuhou", now=NOW)
        make_handoff(session, "c3", grid="central", now=NOW)
        assert swept(session, later(seconds=121), "c1", "c2", "c3").overflowed == [billing.id]
        assert swept(session, later(minutes=9), "c1", "c2", "c3").overflowed != []
        assert owner_of(session, "c3") == ("queued", "central")


def test_a_queued_customer_whose_page_is_gone_is_abandoned_back_to_the_bot(settings):
    with session_scope() as session:
        gone = make_handoff(session, "gone", grid="central", now=NOW)
        make_handoff(session, "here", grid="central", now=NOW)
        assert swept(session, later(seconds=600), "here").abandoned == []  # central waits 10 minutes
        report = swept(session, later(seconds=601), "here")
        assert report.abandoned == [gone.id]
        session.refresh(gone)
        assert owner_of(session, "gone") == ("bot", None) and (gone.status, gone.ended_at) == (
            "abandoned",
            later(seconds=601),
        )
        assert owner_of(session, "here") == ("queued", "central")


def test_an_accepted_chat_is_neither_overflowed_nor_abandoned(settings):
    with session_scope() as session:
        agent = make_account(session)
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, later(seconds=5))
        record_agent_message(session, handoff.id, agent.id, "您好", later(seconds=6))
        assert sweep(session, later(hours=2)) == NOTHING
        assert owner_of(session) == ("human", "cd-wuhou")


def test_a_customer_waiting_past_the_first_response_time_alerts_the_grid_once_then_once_overdue(settings):
    with session_scope() as session:
        handoff = make_handoff(session, grid="central", now=NOW)
        assert swept(session, later(seconds=59), "customer-1") == NOTHING
        [breach] = swept(session, later(seconds=60), "customer-1").alerts
        assert swept(session, later(seconds=90), "customer-1") == NOTHING
        assert swept(session, later(seconds=60, minutes=14), "customer-1") == NOTHING
        [overdue] = swept(session, later(seconds=60, minutes=15), "customer-1").alerts
        assert swept(session, later(seconds=60, minutes=16), "customer-1") == NOTHING
        alerts = {a.id: a for a in session.scalars(select(Alert))}
        assert [
            (alerts[i].kind, alerts[i].step, alerts[i].handoff_id, alerts[i].grid_code) for i in (breach, overdue)
        ] == [("chat_wait", "breach", handoff.id, "central"), ("chat_wait", "overdue", handoff.id, "central")]
        assert "总部服务网格" in alerts[breach].message and "1 分钟" in alerts[breach].message
        assert "16 分钟" in alerts[overdue].message and "超时 15 分钟" in alerts[overdue].message


def test_a_grids_own_first_response_target_sets_the_alert_time(settings):
    with session_scope() as session:
        make_handoff(session, grid="key-accounts", now=NOW)
        assert swept(session, later(seconds=29), "customer-1").alerts == []
        assert len(swept(session, later(seconds=30), "customer-1").alerts) == 1


def test_an_overflow_does_not_raise_the_same_alert_again_in_the_next_grid(settings):
    with session_scope() as session:
        make_handoff(session, grid="cd-wuhou", now=NOW)
        swept(session, later(seconds=60), "customer-1")
        swept(session, later(seconds=181), "customer-1")  # now in cd-city
        assert swept(session, later(seconds=250), "customer-1").alerts == []  # breach already raised once


def test_an_accepted_chat_without_an_answer_alerts_the_grid(settings):
    with session_scope() as session:
        agent = make_account(session)
        silent = make_handoff(session, "silent", now=NOW)
        answered = make_handoff(session, "answered", now=NOW)
        accept(session, silent.id, agent.id, later(seconds=10))
        accept(session, answered.id, agent.id, later(seconds=10))
        record_agent_message(session, answered.id, agent.id, "您好", later(seconds=30))
        assert sweep(session, later(seconds=69)) == NOTHING
        [breach] = sweep(session, later(seconds=70)).alerts
        [overdue] = sweep(session, later(seconds=70, minutes=15)).alerts
        kinds = [(a.kind, a.step, a.handoff_id) for a in session.scalars(select(Alert).order_by(Alert.id))]
        assert kinds == [("chat_first_response", "breach", silent.id), ("chat_first_response", "overdue", silent.id)]
        assert "成都武侯网格" in session.get_one(Alert, breach).message
        record_agent_message(session, silent.id, agent.id, "抱歉久等", later(minutes=20))
        assert sweep(session, later(hours=1)) == NOTHING
        assert session.get_one(Alert, overdue).step == "overdue"


def test_open_alerts_are_the_grids_unacknowledged_ones_newest_first(settings):
    with session_scope() as session:
        first = make_handoff(session, "c1", grid="central", now=NOW)
        make_handoff(session, "c2", grid="sh-pudong", now=NOW)
        swept(session, later(seconds=60), "c1", "c2")
        third = make_handoff(session, "c3", grid="central", now=later(seconds=60))
        swept(session, later(seconds=120), "c1", "c2", "c3")
        alerts = open_alerts(session, ["central"])
        assert [(a.handoff_id, a.step) for a in alerts] == [(third.id, "breach"), (first.id, "breach")]
        alerts[0].acknowledged_at = later(seconds=130)
        session.flush()
        assert [a.handoff_id for a in open_alerts(session, ["central"])] == [first.id]
        assert {a.grid_code for a in open_alerts(session, None)} == {"central", "sh-pudong"}
