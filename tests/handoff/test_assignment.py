"""What agents do with a handoff: the dispatcher's choice, accepting, answering, transfer, hand back, close."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conversations.models import Author, Message, Owner
from griddesk.db import session_scope
from grids.models import Agent
from handoff.assignment import (
    InvalidTransfer,
    accept,
    close,
    hand_back,
    handoff_view,
    my_chats,
    record_agent_message,
    set_agent_status,
    touch_agent,
    transfer,
)
from handoff.dispatch import agent_loads
from handoff.models import OwnershipEvent
from handoff.ownership import (
    AlreadyTaken,
    AtCapacity,
    HandoffNotFound,
    InvalidTransition,
    NotAssigned,
    NotInGrid,
)
from handoff.queue import customer_leaves, queue_status, touch_customer
from tests.factories import make_account, make_conversation, make_handoff
from tests.handoff.helpers import NOW, conversation_of, later

# --- accepting ----------------------------------------------------------------------------------


def test_after_accepting_the_agent_owns_the_conversation(settings):
    with session_scope() as session:
        agent = make_account(session)
        handoff = make_handoff(session, now=NOW)
        chat = accept(session, handoff.id, agent.id, later(seconds=30))
        conversation = conversation_of(session)
        assert (conversation.owner, conversation.agent_id, conversation.grid_code) == ("human", agent.id, "cd-wuhou")
        assert (handoff.status, handoff.agent_id, handoff.accepted_at) == ("active", agent.id, later(seconds=30))
        assert (chat.handoff_id, chat.grid_name, chat.waiting_reply, chat.last_seq) == (
            handoff.id,
            "成都武侯网格",
            True,
            conversation.last_seq,
        )
        assert my_chats(session, agent.id) == [chat]


def test_a_conversation_already_accepted_is_already_taken_for_the_next_agent(settings):
    with session_scope() as session:
        first, second = make_account(session, "a1"), make_account(session, "a2")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, first.id, NOW)
        with pytest.raises(AlreadyTaken):
            accept(session, handoff.id, second.id, NOW)
        assert conversation_of(session).agent_id == first.id


def test_an_agent_of_another_grid_cannot_accept(settings):
    with session_scope() as session:
        outsider = make_account(session, grids=["sh-pudong"])
        handoff = make_handoff(session, now=NOW)
        with pytest.raises(NotInGrid):
            accept(session, handoff.id, outsider.id, NOW)
        assert conversation_of(session).owner == "queued"


def test_a_manager_of_the_grid_may_accept(settings):
    with session_scope() as session:
        manager = make_account(session, "manager", role="manager")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, manager.id, NOW)
        assert conversation_of(session).agent_id == manager.id


def test_an_agent_at_capacity_cannot_accept_another_chat(settings):
    with session_scope() as session:
        agent = make_account(session, max_chats=1)
        accept(session, make_handoff(session, "c1", now=NOW).id, agent.id, NOW)
        second = make_handoff(session, "c2", now=NOW)
        with pytest.raises(AtCapacity):
            accept(session, second.id, agent.id, NOW)
        assert conversation_of(session, "c2").owner == "queued" and second.status == "queued"


def test_accepting_a_handoff_that_does_not_exist_or_has_ended_is_refused(settings):
    with session_scope() as session:
        agent = make_account(session)
        with pytest.raises(HandoffNotFound):
            accept(session, 999, agent.id, NOW)
        handoff = make_handoff(session, now=NOW)
        customer_leaves(session, "customer-1", NOW, to_ticket=False)
        with pytest.raises(InvalidTransition):
            accept(session, handoff.id, agent.id, NOW)


# --- talking -------------------------------------------------------------------------------------


def test_agent_messages_carry_the_agents_name_and_the_first_one_is_the_first_response(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="小王")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, NOW)
        before = conversation_of(session).last_seq
        first = record_agent_message(session, handoff.id, agent.id, "您好, 请问有什么可以帮您?", later(seconds=20))
        second = record_agent_message(session, handoff.id, agent.id, "请稍等", later(seconds=40))
        assert (first.seq, second.seq) == (before + 1, before + 2)
        assert (first.author, first.payload, first.status) == (Author.AGENT, {"agent_name": "小王"}, "sent")
        assert handoff.first_response_at == later(seconds=20)
        assert my_chats(session, agent.id)[0].waiting_reply is False


def test_only_the_assigned_agent_may_write_to_the_customer(settings):
    with session_scope() as session:
        owner, other = make_account(session, "a1"), make_account(session, "a2")
        handoff = make_handoff(session, now=NOW)
        with pytest.raises(NotAssigned):
            record_agent_message(session, handoff.id, owner.id, "还没接入", NOW)  # still queued
        accept(session, handoff.id, owner.id, NOW)
        with pytest.raises(NotAssigned):
            record_agent_message(session, handoff.id, other.id, "我来回答", NOW)
        assert session.scalar(select(Message).where(Message.author == "agent")) is None


# --- transfer, hand back, close -------------------------------------------------------------------


def test_a_transfer_to_a_grid_puts_the_conversation_in_that_grids_queue_with_the_note(settings):
    with session_scope() as session:
        agent = make_account(session, "a1", grids=["cd-wuhou", "billing"])
        billing_agent = make_account(session, "b1", grids=["billing"])
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, NOW)
        transfer(session, handoff.id, agent.id, later(minutes=2), to_grid="billing", note="账单问题, 请账务同事处理")
        conversation = conversation_of(session)
        assert (conversation.owner, conversation.grid_code, conversation.agent_id) == ("queued", "billing", None)
        assert conversation.last_agent_id == agent.id
        session.refresh(handoff)
        assert (handoff.status, handoff.grid_code, handoff.agent_id, handoff.queued_at) == (
            "queued",
            "billing",
            None,
            later(minutes=2),
        )
        assert handoff.offered_agent_id == billing_agent.id  # never back to the agent who passed it on
        [note] = handoff.packet["notes"]
        assert (note["from_grid"], note["to_grid"], note["note"]) == ("cd-wuhou", "billing", "账单问题, 请账务同事处理")
        accept(session, handoff.id, billing_agent.id, later(minutes=3))
        assert conversation_of(session).agent_id == billing_agent.id


def test_a_transfer_to_an_agent_hands_the_chat_over_directly(settings):
    with session_scope() as session:
        first, second = make_account(session, "a1"), make_account(session, "a2")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, first.id, NOW)
        transfer(session, handoff.id, first.id, later(minutes=1), to_agent_id=second.id, note="请跟进")
        conversation = conversation_of(session)
        assert (conversation.owner, conversation.agent_id) == ("human", second.id)
        assert my_chats(session, first.id) == [] and [c.handoff_id for c in my_chats(session, second.id)] == [
            handoff.id
        ]
        with pytest.raises(NotAssigned):
            record_agent_message(session, handoff.id, first.id, "还在吗", later(minutes=2))
        event = session.scalars(select(OwnershipEvent).order_by(OwnershipEvent.id.desc())).first()
        assert (event.from_owner, event.to_owner, event.agent_id, event.note) == ("human", "human", second.id, "请跟进")


def test_a_transfer_to_an_agent_outside_the_grid_or_at_capacity_is_refused(settings):
    with session_scope() as session:
        first = make_account(session, "a1")
        outsider = make_account(session, "a2", grids=["sh-pudong"])
        full = make_account(session, "a3", max_chats=1)
        accept(session, make_handoff(session, "c0", now=NOW).id, full.id, NOW)
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, first.id, NOW)
        with pytest.raises(NotInGrid):
            transfer(session, handoff.id, first.id, NOW, to_agent_id=outsider.id, note="")
        with pytest.raises(AtCapacity):
            transfer(session, handoff.id, first.id, NOW, to_agent_id=full.id, note="")
        assert conversation_of(session).agent_id == first.id


@pytest.mark.parametrize("targets", [{}, {"to_grid": "billing", "to_agent_id": 1}, {"to_grid": "no-such-grid"}])
def test_a_transfer_needs_exactly_one_existing_target(settings, targets):
    with session_scope() as session:
        agent = make_account(session)
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, NOW)
        with pytest.raises(InvalidTransfer):
            transfer(session, handoff.id, agent.id, NOW, note="", **targets)


def test_only_the_assigned_agent_may_transfer_hand_back_or_close(settings):
    with session_scope() as session:
        owner, other = make_account(session, "a1"), make_account(session, "a2")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, owner.id, NOW)
        with pytest.raises(NotAssigned):
            transfer(session, handoff.id, other.id, NOW, to_grid="billing", note="")
        with pytest.raises(NotAssigned):
            hand_back(session, handoff.id, other.id, NOW)
        with pytest.raises(NotAssigned):
            close(session, handoff.id, other.id, NOW)
        assert conversation_of(session).agent_id == owner.id


def test_handing_back_gives_the_conversation_to_the_bot(settings):
    with session_scope() as session:
        agent = make_account(session)
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, NOW)
        hand_back(session, handoff.id, agent.id, later(minutes=4), note="已解答")
        conversation = conversation_of(session)
        assert (conversation.owner, conversation.agent_id, conversation.grid_code) == ("bot", None, None)
        assert (handoff.status, handoff.ended_at) == ("returned", later(minutes=4))
        status = queue_status(session, "customer-1", NOW)
        assert (status.owner, status.handoff_id, status.rating_pending) == (Owner.BOT, None, False)


def test_closing_ends_the_chat_and_asks_the_customer_for_a_rating(settings):
    with session_scope() as session:
        agent = make_account(session)
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, NOW)
        token = close(session, handoff.id, agent.id, later(minutes=6))
        assert conversation_of(session).owner == "closed"
        assert (handoff.status, handoff.ended_at) == ("closed", later(minutes=6))
        # the close notice carries a random single-use rating token; only its hash is kept
        assert isinstance(token, str) and len(token) >= 22 and handoff.rating_token_hash not in (None, token)
        status = queue_status(session, "customer-1", NOW)
        assert (status.owner, status.handoff_id, status.rating_pending) == (Owner.CLOSED, handoff.id, True)
        with pytest.raises(NotAssigned):
            hand_back(session, handoff.id, agent.id, NOW)


# --- what agents see ------------------------------------------------------------------------------


def test_the_handoff_view_shows_the_packet_and_every_change_of_owner(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="小王")
        handoff = make_handoff(session, now=NOW, intent={"name": "request_human", "confidence": 0.97})
        accept(session, handoff.id, agent.id, later(seconds=30))
        view = handoff_view(session, handoff.id)
        assert (view.status, view.grid_name, view.agent_name, view.reason) == (
            "active",
            "成都武侯网格",
            "小王",
            "customer_request",
        )
        assert view.packet["intent"] == {"name": "request_human", "confidence": 0.97}
        assert [(e["from"], e["to"], e["actor"]) for e in view.events] == [
            ("bot", "queued", "bot"),
            ("queued", "human", f"account:{agent.id}"),
        ]
        with pytest.raises(HandoffNotFound):
            handoff_view(session, 999)


def test_agent_loads_count_each_agents_chats(settings):
    with session_scope() as session:
        busy = make_account(session, "a1", grids=["cd-wuhou", "billing"], skills=["billing"])
        make_account(session, "a2", grids=["sh-pudong"])
        accept(session, make_handoff(session, "c1", now=NOW).id, busy.id, NOW)
        [loaded] = agent_loads(session, ["cd-wuhou"])
        assert (loaded.account_id, loaded.active_chats, loaded.max_chats, loaded.skills, loaded.grid_codes) == (
            busy.id,
            1,
            3,
            ("billing",),
            ("billing", "cd-wuhou"),
        )
        assert len(agent_loads(session, None)) == 2


def test_agent_status_and_presence_are_recorded(settings):
    with session_scope() as session:
        agent = make_account(session)
        set_agent_status(session, agent.id, "away")
        touch_agent(session, agent.id, NOW)
        row = session.get_one(Agent, agent.id)
        session.refresh(row)
        assert (row.status, row.last_seen_at) == ("away", NOW)
        with pytest.raises(ValueError):
            set_agent_status(session, agent.id, "sleeping")
        make_conversation(session)
        touch_customer(session, "customer-1", later(seconds=3))
        assert conversation_of(session).customer_seen_at == later(seconds=3)


def test_every_change_of_an_agents_status_is_kept_as_an_event_for_the_reports(settings):
    from grids.models import AgentStatusEvent

    with session_scope() as session:
        agent = make_account(session)
        set_agent_status(session, agent.id, "offline", NOW)
        set_agent_status(session, agent.id, "online", later(seconds=1))
        set_agent_status(session, agent.id, "online", later(seconds=5))  # no change: nothing recorded
        set_agent_status(session, agent.id, "away", later(seconds=60))
        events = session.scalars(select(AgentStatusEvent).order_by(AgentStatusEvent.id)).all()
        assert [(e.status, e.at) for e in events][-2:] == [("online", later(seconds=1)), ("away", later(seconds=60))]
        assert len(events) in (2, 3)  # the factory's agent may start online (then going offline is a change)
