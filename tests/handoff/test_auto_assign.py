"""Agent status that tells the truth, and waiting customers given to free agents (issue 14, item 7)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Account, AccountSession
from accounts.sessions import end_session, resolve_session, start_session
from conversations.models import Owner
from griddesk.db import session_scope, utcnow
from grids.models import Agent, AgentStatus, AgentStatusEvent
from handoff.assignment import AgentOffline, ChatsStillOpen, accept, assign_waiting, set_agent_status, touch_agent
from handoff.models import OwnershipEvent
from handoff.sweep import sweep
from tests.factories import make_account, make_handoff
from tests.handoff.helpers import NOW, conversation_of, later
from tests.races import JOIN_SECONDS, blocked_or_done


def statuses(session, account_id):
    return [
        e.status
        for e in session.scalars(
            select(AgentStatusEvent).where(AgentStatusEvent.account_id == account_id).order_by(AgentStatusEvent.id)
        )
    ]


def present(session, *accounts):
    for account in accounts:
        touch_agent(session, account.id, NOW)
    session.flush()


# --- status follows the logins --------------------------------------------------------------------


def test_an_agent_is_online_after_logging_in_and_offline_after_the_last_logout(settings):
    now = utcnow()  # logouts are checked against the real clock
    with session_scope() as session:
        account = make_account(session, status=AgentStatus.OFFLINE)
        first, _ = start_session(session, account, now, hours=8)
        assert session.get_one(Agent, account.id).status == AgentStatus.ONLINE
        set_agent_status(session, account.id, AgentStatus.AWAY, now)
        second, _ = start_session(session, account, now, hours=8)  # another device: their choice stays
        assert session.get_one(Agent, account.id).status == AgentStatus.AWAY
        end_session(session, first)
        assert session.get_one(Agent, account.id).status == AgentStatus.AWAY  # still logged in elsewhere
        end_session(session, second)
        assert session.get_one(Agent, account.id).status == AgentStatus.OFFLINE
        # each change is in agent_status_event, where the reports read online time
        assert statuses(session, account.id) == ["online", "away", "offline"]


def test_an_expired_login_found_on_use_takes_the_agent_offline(settings):
    with session_scope() as session:
        account = make_account(session, status=AgentStatus.OFFLINE)
        token, _ = start_session(session, account, NOW, hours=1)
        assert session.get_one(Agent, account.id).status == AgentStatus.ONLINE
        session.execute(
            AccountSession.__table__.update()
            .values(expires_at=later(minutes=-1))
            .where(AccountSession.account_id == account.id)
        )
        assert resolve_session(session, token, later(seconds=1), 1) is None
        assert session.get_one(Agent, account.id).status == AgentStatus.OFFLINE


def test_the_sweep_takes_agents_whose_logins_all_expired_offline(settings):
    with session_scope() as session:
        gone = make_account(session, "gone")
        staying = make_account(session, "staying", status=AgentStatus.AWAY)
        session.execute(
            AccountSession.__table__.update()
            .values(expires_at=later(minutes=-1))
            .where(AccountSession.account_id == gone.id)
        )
        report = sweep(session, NOW)
        assert report.signed_out == ["cd-wuhou"]
        assert session.get_one(Agent, gone.id).status == AgentStatus.OFFLINE
        assert session.get_one(Agent, staying.id).status == AgentStatus.AWAY
        assert statuses(session, gone.id) == ["offline"]
        assert sweep(session, later(seconds=5)).signed_out == []


def test_an_offline_agent_cannot_accept_a_chat(settings):
    with session_scope() as session:
        account = make_account(session, status=AgentStatus.OFFLINE)
        handoff = make_handoff(session, now=NOW)
        with pytest.raises(AgentOffline) as refused:
            accept(session, handoff.id, account.id, later(seconds=1))
        assert "离线" in str(refused.value)
        assert conversation_of(session).owner == Owner.QUEUED


def test_going_offline_with_chats_open_is_refused_and_away_is_the_way_to_pause(settings):
    with session_scope() as session:
        account = make_account(session)
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, account.id, later(seconds=1))
        with pytest.raises(ChatsStillOpen) as refused:
            set_agent_status(session, account.id, AgentStatus.OFFLINE, later(seconds=2))
        assert "1 个进行中的会话" in str(refused.value) and "忙碌" in str(refused.value)
        set_agent_status(session, account.id, AgentStatus.AWAY, later(seconds=3))
        assert session.get_one(Agent, account.id).status == AgentStatus.AWAY


# --- assignment -----------------------------------------------------------------------------------


def test_a_waiting_customer_goes_to_the_least_loaded_present_online_agent(settings):
    with session_scope() as session:
        busy = make_account(session, "busy")
        free = make_account(session, "free")
        away = make_account(session, "away", status=AgentStatus.AWAY)
        make_account(session, "absent")  # online, but no console open
        present(session, busy, free, away)
        first = make_handoff(session, "c1", now=NOW)
        accept(session, first.id, busy.id, NOW)
        waiting = make_handoff(session, "c2", now=later(seconds=1))
        [assignment] = assign_waiting(session, ["cd-wuhou"], later(seconds=2))
        assert assignment.agent_id == free.id and assignment.chat.handoff_id == waiting.id
        assert conversation_of(session, "c2").owner == Owner.HUMAN
        event = session.scalars(
            select(OwnershipEvent).where(OwnershipEvent.handoff_id == waiting.id).order_by(OwnershipEvent.id.desc())
        ).first()
        assert (event.actor, event.agent_id, event.note) == ("system", free.id, "系统自动分配")


def test_nobody_present_and_free_leaves_the_customer_waiting(settings):
    with session_scope() as session:
        full = make_account(session, "full", max_chats=1)
        make_account(session, "absent")
        present(session, full)
        accept(session, make_handoff(session, "c1", now=NOW).id, full.id, NOW)
        make_handoff(session, "c2", now=later(seconds=1))
        assert assign_waiting(session, None, later(seconds=2)) == []
        assert conversation_of(session, "c2").owner == Owner.QUEUED


def test_the_console_counts_as_open_for_ninety_seconds_after_it_was_last_seen(settings):
    with session_scope() as session:
        agent = make_account(session)
        present(session, agent)
        make_handoff(session, "c1", now=NOW)
        assert assign_waiting(session, None, later(seconds=91)) == []
        assert len(assign_waiting(session, None, later(seconds=90))) == 1


def test_several_waiting_customers_are_spread_by_load_and_capacity_in_queue_order(settings):
    with session_scope() as session:
        one = make_account(session, "one", max_chats=1)
        two = make_account(session, "two", max_chats=2)
        present(session, one, two)
        handoffs = [make_handoff(session, f"c{i}", now=later(seconds=i)) for i in range(4)]
        assigned = assign_waiting(session, ["cd-wuhou"], later(seconds=10))
        assert [(a.chat.handoff_id, a.agent_id) for a in assigned] == [
            (handoffs[0].id, one.id),
            (handoffs[1].id, two.id),
            (handoffs[2].id, two.id),
        ]
        assert conversation_of(session, "c3").owner == Owner.QUEUED


def test_a_customer_goes_to_an_agent_with_the_skill_of_their_request(settings):
    with session_scope() as session:
        general = make_account(session, "general")
        billing = make_account(session, "billing", skills=["billing"])
        present(session, general, billing)
        make_handoff(session, "c1", skill="billing", now=NOW)
        [assignment] = assign_waiting(session, None, later(seconds=1))
        assert assignment.agent_id == billing.id


def test_agents_of_another_grid_are_not_given_the_customer(settings):
    with session_scope() as session:
        elsewhere = make_account(session, "elsewhere", grids=("sh-pudong",))
        present(session, elsewhere)
        make_handoff(session, "c1", now=NOW)
        assert assign_waiting(session, None, later(seconds=1)) == []


# --- chats of an agent who left -------------------------------------------------------------------


def test_the_chats_of_an_agent_who_logged_out_go_back_to_the_queue_and_to_a_present_colleague(settings):
    now = utcnow()  # logouts are checked against the real clock
    with session_scope() as session:
        leaving = make_account(session, "leaving", status=AgentStatus.OFFLINE)
        colleague = make_account(session, "colleague")
        token, _ = start_session(session, leaving, now, hours=8)
        handoff = make_handoff(session, now=now)
        accept(session, handoff.id, leaving.id, now)
        touch_agent(session, leaving.id, now)
        end_session(session, token)  # the logout is not refused although a chat is open
        assert session.get_one(Agent, leaving.id).status == AgentStatus.OFFLINE
        # while the closed console could still be open (90 s), the chat stays theirs
        assert sweep(session, now + timedelta(seconds=90)).requeued == []
        assert conversation_of(session).agent_id == leaving.id
        report = sweep(session, now + timedelta(seconds=91))
        assert report.requeued == [handoff.id]
        conversation = conversation_of(session)
        assert (conversation.owner, conversation.agent_id, conversation.grid_code) == (
            Owner.QUEUED,
            None,
            "cd-wuhou",
        )
        session.refresh(handoff)
        assert (handoff.status, handoff.agent_id) == ("queued", None)
        assert handoff.packet["notes"][-1]["note"] == "接待的客服已下线，会话重新排队。"
        event = session.scalars(select(OwnershipEvent).order_by(OwnershipEvent.id.desc())).first()
        assert (event.from_owner, event.to_owner, event.actor) == ("human", "queued", "system")
        touch_agent(session, colleague.id, now + timedelta(seconds=91))
        [assignment] = assign_waiting(session, None, now + timedelta(seconds=92))
        assert conversation_of(session).agent_id == colleague.id
        assert assignment.agent_id == colleague.id
        assert sweep(session, now + timedelta(seconds=120)).requeued == []


def test_an_agent_away_or_online_keeps_their_chats_when_the_console_is_closed(settings):
    with session_scope() as session:
        away = make_account(session, "away", status=AgentStatus.AWAY)
        online = make_account(session, "online")
        first = make_handoff(session, "c1", now=NOW)
        second = make_handoff(session, "c2", now=NOW)
        accept(session, first.id, online.id, NOW)
        session.get_one(Agent, away.id).status = AgentStatus.ONLINE
        accept(session, second.id, away.id, NOW)
        session.get_one(Agent, away.id).status = AgentStatus.AWAY
        assert sweep(session, later(hours=1)).requeued == []
        assert conversation_of(session, "c1").agent_id == online.id
        assert conversation_of(session, "c2").agent_id == away.id


def test_the_queue_watch_tells_the_customer_their_agent_left_and_names_the_grid(settings):
    from handoff.messages import AGENT_LEFT
    from handoff.queue_watch import sweep_once

    now = utcnow()  # the queue watch sweeps at the real clock
    with session_scope() as session:
        leaving = make_account(session, "leaving")
        handoff = make_handoff(session, now=now - timedelta(minutes=5))
        accept(session, handoff.id, leaving.id, now - timedelta(minutes=4))
        touch_agent(session, leaving.id, now - timedelta(minutes=2))
        session.get_one(Agent, leaving.id).status = AgentStatus.OFFLINE
        session.execute(AccountSession.__table__.delete().where(AccountSession.account_id == leaving.id))
    news = sweep_once()
    [(conversation_id, _sender, told)] = news.told
    assert [message.text for message in told] == [AGENT_LEFT]
    assert news.grids == {"cd-wuhou"}
    with session_scope() as session:
        assert conversation_of(session).id == conversation_id
        assert conversation_of(session).owner == Owner.QUEUED


def test_a_login_committing_while_the_sweep_signs_out_the_absent_keeps_the_agent_online(settings):
    # The agent still shows online from a login that expired; a new login is in its transaction when the sweep
    # counts live logins on another connection. On PostgreSQL the sweep waits for the login's lock on the agent and
    # counts again; without the lock it saw no live login and set the agent offline beside a live login.
    with session_scope() as session:
        account = make_account(session, "returning")
        session.execute(
            AccountSession.__table__.update()
            .values(expires_at=later(minutes=-1))
            .where(AccountSession.account_id == account.id)
        )
    outcome: list[list[str]] = []

    def sweep_now() -> None:
        with session_scope() as session:
            outcome.append(sweep(session, NOW).signed_out)

    with session_scope() as session:
        start_session(session, session.get_one(Account, account.id), NOW, hours=8)  # not committed yet
        racer = threading.Thread(target=sweep_now)
        racer.start()
        blocked_or_done(racer)
    racer.join(JOIN_SECONDS)
    with session_scope() as session:
        assert session.get_one(Agent, account.id).status == AgentStatus.ONLINE
        assert outcome == [[]]
