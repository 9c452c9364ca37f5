"""The grid queues from the customer's side: requesting a human, place and wait, leaving, coming back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from conversations.models import Conversation, Owner
from griddesk.db import get_engine, session_scope
from grids.handoff_policy import HandoffPolicy
from grids.models import AgentStatus
from handoff.assignment import accept, close, hand_back, my_chats
from handoff.models import Handoff, HandoffStatus, OwnershipEvent
from handoff.ownership import HandoffNotFound, InvalidTransition
from handoff.packet import parse_packet
from handoff.queue import customer_leaves, grid_queue, queue_status, reopen, request_handoff, waiting_statuses
from handoff.wait import estimate_wait
from tests.factories import make_account, make_conversation, make_customer, make_handoff
from tests.handoff.helpers import NOW, closed_handoff, conversation_of, later

# --- estimate_wait: the pure rule -----------------------------------------------------------------

POLICY = HandoffPolicy(first_response_seconds=60, default_handling_seconds=300)


@pytest.mark.parametrize(
    "position, free, recent, expected",
    [
        (1, [1], [], 60),  # a free slot: answered within the first-response target
        (2, [1, 1], [], 60),
        (3, [1, 1], [], 300),  # one past the free slots: one handling time
        (3, [2, 0], [], 300),  # a full agent still counts as online
        (4, [1, 0], [100, 200], 300),  # 3 beyond the slot, 2 agents → 2 waves of 150 s
        (1, [], [], 300),  # nobody online: one wave per position
        (3, [], [120.0], 360),
        (1, [0, 0], [60, 120], 90),
    ],
)
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
            "queued",
            "cd-wuhou",
            handoff.id,
        )
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


@pytest.mark.parametrize(
    "profile, expected",
    [
        ({"region": "成都市武侯区", "tier": "general"}, "cd-wuhou"),
        ({"region": "成都武侯区", "tier": "key"}, "key-accounts"),
        ({}, "central"),
    ],
)
def test_an_unknown_grid_in_the_packet_is_routed_from_the_customers_profile(settings, profile, expected):
    with session_scope() as session:
        make_conversation(session)
        packet = parse_packet({"reason": "rule", "grid": "no-such-grid", "profile": profile})
        assert request_handoff(session, "customer-1", packet, NOW).grid_code == expected


def test_an_unknown_grid_is_routed_from_the_verified_customer_never_from_what_a_page_claimed(settings):
    packet = parse_packet({"reason": "rule", "grid": "no-such-grid"})
    with session_scope() as session:
        make_conversation(session, "claims", profile={"region": "成都市武侯区", "tier": "key"})
        assert request_handoff(session, "claims", packet, NOW).grid_code == "central"
        make_conversation(session, "verified", customer=make_customer("u-1", region="成都市武侯区", tier="key"))
        assert request_handoff(session, "verified", packet, NOW).grid_code == "key-accounts"


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


# --- the customer leaves or comes back ------------------------------------------------------------


@pytest.mark.parametrize(
    "accepted, to_ticket, expected",
    [
        (False, True, HandoffStatus.TICKET),
        (False, False, HandoffStatus.ABANDONED),
        (True, False, HandoffStatus.RETURNED),
        (True, True, HandoffStatus.TICKET),
    ],
)
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
        handoff, _token = closed_handoff(session)
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
            Owner.QUEUED,
            "cd-wuhou",
            "成都武侯网格",
            2,
        )
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
            Owner.HUMAN,
            "小王",
            handoff.id,
            None,
        )
        make_conversation(session, "c2")
        for sender in ("c2", "never-seen"):
            assert queue_status(session, sender, NOW) == queue_status(session, "never-seen", NOW)
            assert queue_status(session, sender, NOW).owner is Owner.BOT
            assert queue_status(session, sender, NOW).handoff_id is None


def conversation_sender(session, item) -> str:
    """Which customer a queue item is (items name conversations by id only)."""
    return session.get_one(Conversation, item.conversation_id).sender_id


def test_the_grid_queue_lists_waiting_customers_with_their_place_and_a_preview(settings):
    with session_scope() as session:
        agent = make_account(session, display_name="小王")
        make_conversation(
            session,
            "c1",
            texts=["你好", "宽带从昨天晚上开始就一直断网" * 10],
            profile={"region": "成都市武侯区", "tier": "general"},
        )
        make_handoff(session, "c1", now=NOW, profile={"name": "张先生", "region": "武侯"})
        make_handoff(session, "c2", grid="billing", now=later(seconds=5))
        make_handoff(session, "c3", now=later(seconds=10))
        served = make_handoff(session, "c4", now=NOW)
        accept(session, served.id, agent.id, NOW)
        items = grid_queue(session, ["cd-wuhou", "billing"], later(minutes=1))
        assert [(conversation_sender(session, i), i.grid_code, i.position) for i in items] == [
            ("c1", "cd-wuhou", 1),
            ("c2", "billing", 1),
            ("c3", "cd-wuhou", 2),
        ]
        first = items[0]
        assert (first.waited_seconds, first.offered_agent_id, first.offered_agent_name) == (60, agent.id, "小王")
        assert len(first.preview) == 80 and first.preview.startswith("宽带从昨天晚上")
        assert first.profile == {"name": "张先生", "region": "成都市武侯区", "tier": "general"}
        assert [conversation_sender(session, i) for i in grid_queue(session, ["billing"], NOW)] == ["c2"]
        assert len(grid_queue(session, None, NOW)) == 3


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements the process engine runs inside the block."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_grid_queue_reads_in_the_same_number_of_statements_for_one_or_ten_waiting_customers(settings):
    def listed() -> tuple[list, int]:
        with session_scope() as session, statements_run() as statements:
            items = grid_queue(session, ["cd-wuhou"], NOW)
        return items, len(statements)

    with session_scope() as session:
        make_account(session, display_name="小王")
        make_handoff(session, "c0", now=NOW)
    one, for_one = listed()
    with session_scope() as session:
        for i in range(1, 10):
            make_handoff(session, f"c{i}", now=later(seconds=i))
    ten, for_ten = listed()
    assert (len(one), len(ten)) == (1, 10)
    assert {(item.offered_agent_name, item.preview) for item in ten} == {("小王", "转人工")}
    assert for_ten == for_one


def test_waiting_statuses_are_each_customers_queue_status_read_per_grid_once(settings):
    with session_scope() as session:
        agent = make_account(session, max_chats=1)
        for i, minutes in enumerate([2, 4]):
            handoff = make_handoff(session, f"done{i}", now=NOW)
            accept(session, handoff.id, agent.id, NOW)
            close(session, handoff.id, agent.id, later(minutes=minutes))
        for i in range(3):
            make_handoff(session, f"c{i}", now=later(seconds=i))
        make_handoff(session, "elsewhere", grid="billing", now=NOW)
        served = make_handoff(session, "served", now=NOW)
        accept(session, served.id, agent.id, NOW)
    with session_scope() as session:
        conversations = dict(session.execute(select(Conversation.sender_id, Conversation.id)).all())
        expected = {conversations[s]: queue_status(session, s, NOW) for s in ("c0", "c1", "c2", "elsewhere")}
        everyone = dict(waiting_statuses(session, None, lambda _id: True, NOW))
        assert everyone == expected
        silent = conversations["c1"]
        assert dict(waiting_statuses(session, ["cd-wuhou"], lambda cid: cid != silent, NOW)) == {
            cid: status for cid, status in expected.items() if cid != silent and status.grid_code == "cd-wuhou"
        }
    with session_scope() as session, statements_run() as for_four:
        waiting_statuses(session, None, lambda _id: True)
    with session_scope() as session:
        for i in range(3, 12):
            make_handoff(session, f"c{i}", now=later(seconds=i))
    with session_scope() as session, statements_run() as for_thirteen:
        assert len(waiting_statuses(session, None, lambda _id: True)) == 13
    assert len(for_thirteen) == len(for_four)


def test_the_wait_shown_counts_down_and_starts_again_when_the_queue_moves(settings):
    with session_scope() as session:
        agent = make_account(session, max_chats=1)
        first = make_handoff(session, "c1", now=NOW)
        assert queue_status(session, "c1", NOW).eta_seconds == 60  # a free slot: the first-response target
        assert queue_status(session, "c1", later(seconds=45)).eta_seconds == 15
        assert queue_status(session, "c1", later(seconds=66)).eta_seconds == 0  # not 「约 1 分钟」 forever

        make_handoff(session, "c2", now=later(seconds=70))
        accept(session, first.id, agent.id, later(seconds=80))  # the agent's slot is taken; c2 is first in line
        assert queue_status(session, "c2", later(seconds=80)).eta_seconds == 300  # a handling time, from then on
        assert queue_status(session, "c2", later(seconds=200)).eta_seconds == 180
