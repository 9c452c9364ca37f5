from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from griddesk.db import session_scope
from grids.handoff_policy import HandoffPolicy
from grids.models import Agent, AgentStatus
from conversations.models import Author, Conversation, Message, Owner
from handoff.models import Handoff, HandoffStatus, OwnershipEvent, Rating
from handoff.ownership import (
    AlreadyTaken,
    AtCapacity,
    HandoffNotFound,
    InvalidTransition,
    NotAssigned,
    NotInGrid,
)
from handoff.packet import parse_packet
from handoff.queue import (
    AgentLoad,
    AlreadyRated,
    InvalidRating,
    InvalidTransfer,
    accept,
    agent_loads,
    close,
    customer_leaves,
    estimate_wait,
    grid_queue,
    hand_back,
    handoff_view,
    my_chats,
    pick_agent,
    queue_status,
    rate,
    record_agent_message,
    reopen,
    request_handoff,
    set_agent_status,
    touch_agent,
    touch_customer,
    transfer,
)
from tests.factories import make_account, make_conversation, make_handoff

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def later(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


def conversation_of(session, sender_id="customer-1") -> Conversation:
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == sender_id)).one()
    session.refresh(conversation)
    return conversation


# --- pick_agent and estimate_wait: pure rules ------------------------------------------------------

def load(account_id, active=0, max_chats=3, status=AgentStatus.ONLINE, skills=()):
    return AgentLoad(account_id, f"客服{account_id}", status, active, max_chats, tuple(skills), ("cd-wuhou",))


@pytest.mark.parametrize("loads, skill, last_agent, expected", [
    ([], None, None, None),  # nobody in the grid
    ([load(1, active=2), load(2, active=1)], None, None, 2),  # least load
    ([load(1, active=1, max_chats=2), load(2, active=1, max_chats=4)], None, None, 2),  # by ratio, not count
    ([load(1, active=0, max_chats=2), load(2, active=0, max_chats=4)], None, None, 1),  # tie on ratio → lowest id
    ([load(1, active=2, max_chats=4), load(2, active=1, max_chats=2)], None, None, 2),  # tie ratio → fewer chats
    ([load(1, active=3), load(2, active=3)], None, None, None),  # everyone at capacity
    ([load(1, status=AgentStatus.OFFLINE), load(2, status=AgentStatus.AWAY)], None, None, None),
    ([load(1, status=AgentStatus.AWAY), load(2, active=2)], None, None, 2),  # away agents get no new chats
    ([load(1), load(2, active=2, skills=["billing"])], "billing", None, 2),  # skill beats load
    ([load(1), load(2, active=3, skills=["billing"])], "billing", None, 1),  # a full specialist: anyone free
    ([load(1), load(2)], "billing", None, 1),  # nobody has the skill: least load
    ([load(1), load(2, active=2)], None, 2, 2),  # the customer's last agent first
    ([load(1), load(2, active=3)], None, 2, 1),  # … unless they are full
    ([load(1), load(2, status=AgentStatus.OFFLINE)], None, 2, 1),  # … or offline
    ([load(1, skills=["billing"]), load(2, active=1)], "billing", 2, 2),  # last agent beats skill
])
def test_pick_agent_prefers_the_last_agent_then_skill_then_the_least_load(loads, skill, last_agent, expected):
    assert pick_agent(loads, skill, last_agent) == expected


POLICY = HandoffPolicy(first_response_seconds=60, default_handling_seconds=300)


@pytest.mark.parametrize("position, free, recent, expected", [
    (1, [1], [], 60),  # a free slot: answered within the first-response target
    (2, [1, 1], [], 60),
    (3, [1, 1], [], 300),  # one past the free slots: one handling time
    (3, [2, 0], [], 300),  # a full agent still counts as online
    (4, [1, 0], [100, 200], 300),  # 3 beyond the slot, 2 agents → 2 waves of 150 s
    (1, [], [], 300),  # nobody online: one wave per position
    (3, [], [120.0], 360),
    (1, [0, 0], [60, 120], 90),
])
def test_estimated_wait_comes_from_free_slots_and_recent_handling_times(position, free, recent, expected):
    assert estimate_wait(position, free, recent, POLICY) == expected


# --- requesting a human ---------------------------------------------------------------------------

def test_a_handoff_request_queues_the_conversation_in_the_packets_grid(settings):
    with session_scope() as session:
        make_conversation(session)
        packet = parse_packet({"reason": "customer_request", "grid": "cd-wuhou", "summary": "宽带断网"})
        enqueued = request_handoff(session, "customer-1", packet, NOW)
        conversation = conversation_of(session)
        handoff = session.get_one(Handoff, enqueued.handoff_id)
        assert (conversation.owner, conversation.grid_code, conversation.handoff_id) == (
            "queued", "cd-wuhou", handoff.id)
        assert (handoff.status, handoff.reason, handoff.packet["summary"]) == ("queued", "customer_request", "宽带断网")
        assert (enqueued.grid_name, enqueued.position, enqueued.eta_seconds) == ("成都武侯网格", 1, 300)
        [event] = session.scalars(select(OwnershipEvent)).all()
        assert (event.from_owner, event.to_owner, event.actor, event.handoff_id) == ("bot", "queued", "bot", handoff.id)


def test_asking_again_while_queued_or_served_changes_nothing(settings):
    with session_scope() as session:
        agent = make_account(session)
        first = make_handoff(session, now=NOW)
        packet = parse_packet({"reason": "complaint", "grid": "billing"})
        again = request_handoff(session, "customer-1", packet, later(seconds=5))
        assert (again.handoff_id, again.grid_code, again.position) == (first.id, "cd-wuhou", 1)
        accept(session, first.id, agent.id, later(seconds=10))
        served = request_handoff(session, "customer-1", packet, later(seconds=20))
        assert (served.handoff_id, served.position) == (first.id, None)
        assert session.scalar(select(func.count()).select_from(Handoff)) == 1
        assert conversation_of(session).owner == "human"


@pytest.mark.parametrize("profile, expected", [
    ({"region": "成都市武侯区", "tier": "general"}, "cd-wuhou"),
    ({"region": "成都武侯区", "tier": "key"}, "key-accounts"),
    ({}, "central"),
])
def test_an_unknown_grid_in_the_packet_is_routed_from_the_customers_profile(settings, profile, expected):
    with session_scope() as session:
        make_conversation(session)
        packet = parse_packet({"reason": "rule", "grid": "no-such-grid", "profile": profile})
        assert request_handoff(session, "customer-1", packet, NOW).grid_code == expected


def test_a_handoff_for_a_conversation_that_does_not_exist_is_refused(settings):
    with session_scope() as session, pytest.raises(HandoffNotFound):
        request_handoff(session, "nobody", parse_packet({"reason": "rule", "grid": "cd-wuhou"}), NOW)


def test_the_handoff_is_offered_to_the_best_online_agent_of_the_grid(settings):
    with session_scope() as session:
        busy = make_account(session, "busy", skills=["billing"], max_chats=1)
        accept(session, make_handoff(session, "c0", now=NOW).id, busy.id, NOW)
        make_account(session, "other-grid", grids=["cd-city"], skills=["billing"])
        free = make_account(session, "free")
        specialist = make_account(session, "specialist", skills=["billing"], max_chats=2)
        make_account(session, "away", status=AgentStatus.AWAY, skills=["billing"])
        assert make_handoff(session, "c1", skill="billing", now=NOW).offered_agent_id == specialist.id
        assert make_handoff(session, "c2", now=NOW).offered_agent_id == free.id


def test_a_returning_customer_is_offered_to_the_agent_who_served_them_last(settings):
    with session_scope() as session:
        first = make_account(session, "first")
        make_account(session, "second")
        handoff = make_handoff(session, now=NOW)
        assert handoff.offered_agent_id == first.id  # both idle: lowest id
        second_agent = make_account(session, "third")
        handoff = make_handoff(session, "c2", now=NOW)
        accept(session, handoff.id, second_agent.id, NOW)
        hand_back(session, handoff.id, second_agent.id, later(minutes=5))
        again = make_handoff(session, "c2", now=later(minutes=10))
        assert again.offered_agent_id == second_agent.id


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
            handoff.id, "成都武侯网格", True, conversation.last_seq)
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
            "queued", "billing", None, later(minutes=2))
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
            handoff.id]
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
        close(session, handoff.id, agent.id, later(minutes=6))
        assert conversation_of(session).owner == "closed"
        assert (handoff.status, handoff.ended_at) == ("closed", later(minutes=6))
        status = queue_status(session, "customer-1", NOW)
        assert (status.owner, status.handoff_id, status.rating_pending) == (Owner.CLOSED, handoff.id, True)
        with pytest.raises(NotAssigned):
            hand_back(session, handoff.id, agent.id, NOW)


# --- rating ---------------------------------------------------------------------------------------

def closed_handoff(session, sender_id="customer-1"):
    agent = session.scalar(select(Agent))
    account_id = agent.account_id if agent else make_account(session).id
    handoff = make_handoff(session, sender_id, now=NOW)
    accept(session, handoff.id, account_id, NOW)
    close(session, handoff.id, account_id, later(minutes=5))
    return handoff


def test_a_closed_handoff_is_rated_once(settings):
    with session_scope() as session:
        handoff = closed_handoff(session)
        rating = rate(session, "customer-1", handoff.id, 5, " 很满意 ", later(minutes=6))
        assert (rating.score, rating.comment, rating.handoff_id) == (5, "很满意", handoff.id)
        assert queue_status(session, "customer-1", NOW).rating_pending is False
        with pytest.raises(AlreadyRated):
            rate(session, "customer-1", handoff.id, 1, None, later(minutes=7))
        assert session.scalar(select(func.count()).select_from(Rating)) == 1


def test_a_rating_for_someone_elses_or_an_open_handoff_is_not_found(settings):
    with session_scope() as session:
        handoff = closed_handoff(session)
        make_conversation(session, "intruder")
        with pytest.raises(HandoffNotFound):
            rate(session, "intruder", handoff.id, 1, "", NOW)
        waiting = make_handoff(session, "c2", now=NOW)
        with pytest.raises(HandoffNotFound):
            rate(session, "c2", waiting.id, 5, "", NOW)
        assert session.scalar(select(Rating)) is None


@pytest.mark.parametrize("score, comment", [(0, ""), (6, ""), ("5", ""), (True, ""), (4.5, ""), (3, "长" * 501),
                                            (3, 42)])
def test_a_rating_outside_one_to_five_or_with_a_huge_comment_is_invalid(settings, score, comment):
    with session_scope() as session:
        handoff = closed_handoff(session)
        with pytest.raises(InvalidRating):
            rate(session, "customer-1", handoff.id, score, comment, NOW)


# --- the customer leaves or comes back ------------------------------------------------------------

@pytest.mark.parametrize("accepted, to_ticket, expected", [
    (False, True, HandoffStatus.TICKET),
    (False, False, HandoffStatus.ABANDONED),
    (True, False, HandoffStatus.RETURNED),
    (True, True, HandoffStatus.TICKET),
])
def test_a_customer_who_leaves_goes_back_to_the_bot(settings, accepted, to_ticket, expected):
    with session_scope() as session:
        agent = make_account(session)
        handoff = make_handoff(session, now=NOW)
        if accepted:
            accept(session, handoff.id, agent.id, NOW)
        assert customer_leaves(session, "customer-1", later(minutes=1), to_ticket=to_ticket) == expected
        conversation = conversation_of(session)
        assert (conversation.owner, conversation.agent_id) == ("bot", None)
        assert (handoff.status, handoff.ended_at) == (expected, later(minutes=1))
        event = session.scalars(select(OwnershipEvent).order_by(OwnershipEvent.id.desc())).first()
        assert (event.to_owner, event.actor) == ("bot", "customer")
        assert my_chats(session, agent.id) == []


def test_a_customer_with_nothing_to_leave_changes_nothing(settings):
    with session_scope() as session:
        make_conversation(session)
        assert customer_leaves(session, "customer-1", NOW, to_ticket=False) is None
        assert customer_leaves(session, "nobody", NOW, to_ticket=True) is None
        assert session.scalar(select(OwnershipEvent)) is None


def test_a_new_message_reopens_a_closed_conversation_to_the_bot(settings):
    with session_scope() as session:
        handoff = closed_handoff(session)
        assert reopen(session, "customer-1", later(minutes=10)) is True
        assert conversation_of(session).owner == "bot"
        assert reopen(session, "customer-1", later(minutes=11)) is False
        status = queue_status(session, "customer-1", NOW)
        assert (status.owner, status.rating_pending, status.handoff_id) == (Owner.BOT, True, handoff.id)
        again = make_handoff(session, now=later(minutes=12))
        assert again.id != handoff.id and conversation_of(session).owner == "queued"


def test_a_customer_cannot_be_queued_from_a_closed_conversation_without_reopening(settings):
    with session_scope() as session:
        closed_handoff(session)
        with pytest.raises(InvalidTransition):
            make_handoff(session, now=later(minutes=7))
        assert session.scalar(select(func.count()).select_from(Handoff)) == 1


# --- what customers and agents see -----------------------------------------------------------------

def test_queue_positions_move_up_when_someone_ahead_leaves(settings):
    with session_scope() as session:
        for i, sender in enumerate(["c1", "c2", "c3"]):
            make_handoff(session, sender, now=later(seconds=i))
        make_handoff(session, "elsewhere", grid="billing", now=NOW)
        assert [queue_status(session, s, NOW).position for s in ("c1", "c2", "c3", "elsewhere")] == [1, 2, 3, 1]
        customer_leaves(session, "c1", later(seconds=10), to_ticket=False)
        status = queue_status(session, "c3", NOW)
        assert (status.owner, status.grid_code, status.grid_name, status.position) == (
            Owner.QUEUED, "cd-wuhou", "成都武侯网格", 2)
        assert status.eta_seconds == 600  # nobody online: two default handling times
        assert queue_status(session, "c1", NOW).position is None


def test_the_wait_estimate_uses_the_grids_recent_handling_times(settings):
    with session_scope() as session:
        agent = make_account(session, max_chats=1)
        for i, minutes in enumerate([2, 4]):
            handoff = make_handoff(session, f"done{i}", now=NOW)
            accept(session, handoff.id, agent.id, NOW)
            close(session, handoff.id, agent.id, later(minutes=minutes))
        make_handoff(session, "c1", now=NOW)
        make_handoff(session, "c2", now=NOW)
        assert queue_status(session, "c1", NOW).eta_seconds == 60  # the agent's one slot is free
        assert queue_status(session, "c2", NOW).eta_seconds == 180  # mean of 2 and 4 minutes


def test_a_served_customer_sees_the_agents_name_and_a_bot_customer_sees_nothing(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="小王")
        handoff = make_handoff(session, now=NOW)
        accept(session, handoff.id, agent.id, NOW)
        status = queue_status(session, "customer-1", NOW)
        assert (status.owner, status.agent_name, status.handoff_id, status.position) == (
            Owner.HUMAN, "小王", handoff.id, None)
        make_conversation(session, "c2")
        for sender in ("c2", "never-seen"):
            assert queue_status(session, sender, NOW) == queue_status(session, "never-seen", NOW)
            assert queue_status(session, sender, NOW).owner is Owner.BOT
            assert queue_status(session, sender, NOW).handoff_id is None


def test_the_grid_queue_lists_waiting_customers_with_their_place_and_a_preview(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="小王")
        make_conversation(session, "c1", texts=["你好", "宽带从昨天晚上开始就一直断网" * 10],
                          profile={"region": "成都市武侯区", "tier": "general"})
        make_handoff(session, "c1", now=NOW, profile={"name": "张先生", "region": "武侯"})
        make_handoff(session, "c2", grid="billing", now=later(seconds=5))
        make_handoff(session, "c3", now=later(seconds=10))
        served = make_handoff(session, "c4", now=NOW)
        accept(session, served.id, agent.id, NOW)
        items = grid_queue(session, ["cd-wuhou", "billing"], later(minutes=1))
        assert [(i.sender_id, i.grid_code, i.position) for i in items] == [
            ("c1", "cd-wuhou", 1), ("c2", "billing", 1), ("c3", "cd-wuhou", 2)]
        first = items[0]
        assert (first.waited_seconds, first.offered_agent_id, first.offered_agent_name) == (60, agent.id, "小王")
        assert len(first.preview) == 80 and first.preview.startswith("宽带从昨天晚上")
        assert first.profile == {"name": "张先生", "region": "成都市武侯区", "tier": "general"}
        assert [i.sender_id for i in grid_queue(session, ["billing"], NOW)] == ["c2"]
        assert len(grid_queue(session, None, NOW)) == 3


def test_the_handoff_view_shows_the_packet_and_every_change_of_owner(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="小王")
        handoff = make_handoff(session, now=NOW, intent={"name": "request_human", "confidence": 0.97})
        accept(session, handoff.id, agent.id, later(seconds=30))
        view = handoff_view(session, handoff.id)
        assert (view.status, view.grid_name, view.agent_name, view.reason) == (
            "active", "成都武侯网格", "小王", "customer_request")
        assert view.packet["intent"] == {"name": "request_human", "confidence": 0.97}
        assert [(e["from"], e["to"], e["actor"]) for e in view.events] == [
            ("bot", "queued", "bot"), ("queued", "human", f"account:{agent.id}")]
        with pytest.raises(HandoffNotFound):
            handoff_view(session, 999)


def test_agent_loads_count_each_agents_chats(settings):
    with session_scope() as session:
        busy = make_account(session, "a1", grids=["cd-wuhou", "billing"], skills=["billing"])
        make_account(session, "a2", grids=["sh-pudong"])
        accept(session, make_handoff(session, "c1", now=NOW).id, busy.id, NOW)
        [loaded] = agent_loads(session, ["cd-wuhou"])
        assert (loaded.account_id, loaded.active_chats, loaded.max_chats, loaded.skills, loaded.grid_codes) == (
            busy.id, 1, 3, ("billing",), ("billing", "cd-wuhou"))
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
