from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from conversations.models import Conversation, Owner
from griddesk.db import session_scope
from handoff.assignment import accept
from handoff.models import Handoff, HandoffStatus, OwnershipEvent
from handoff.ownership import (
    AlreadyTaken,
    AtCapacity,
    InvalidTransition,
    OwnershipError,
    transition,
)
from tests.factories import make_account, make_conversation, make_handoff
from tests.races import JOIN_SECONDS, blocked_or_done, race

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

# The graph of docs/handoff.md, written out independently of the module's own table.
ALLOWED = {
    ("bot", "queued"),
    ("queued", "human"),
    ("queued", "bot"),
    ("queued", "queued"),
    ("human", "bot"),
    ("human", "closed"),
    ("human", "queued"),
    ("human", "human"),
    ("closed", "bot"),
}
PATH = {  # how to reach each state from a fresh conversation
    Owner.BOT: [],
    Owner.QUEUED: [Owner.QUEUED],
    Owner.HUMAN: [Owner.QUEUED, Owner.HUMAN],
    Owner.CLOSED: [Owner.QUEUED, Owner.HUMAN, Owner.CLOSED],
}


def move(session, conversation_id, frm, to, agent_id, **extra):
    transition(
        session,
        conversation_id,
        frm,
        to,
        actor="system",
        grid_code="cd-wuhou" if to is Owner.QUEUED else None,
        agent_id=agent_id if to is Owner.HUMAN else None,
        now=NOW,
        **extra,
    )


def conversation_in(session, owner, agent_id):
    conversation = make_conversation(session)
    state = Owner.BOT
    for step in PATH[owner]:
        move(session, conversation.id, state, step, agent_id)
        state = step
    return conversation


@pytest.mark.parametrize("frm", list(Owner))
@pytest.mark.parametrize("to", list(Owner))
def test_every_change_of_owner_in_the_graph_is_allowed_and_every_other_refused(settings, frm, to):
    with session_scope() as session:
        first = make_account(session, "a1")
        second = make_account(session, "a2")
        conversation = conversation_in(session, frm, first.id)
        events_before = session.scalar(select(text("count(*)")).select_from(OwnershipEvent))
        if (frm.value, to.value) in ALLOWED:
            move(session, conversation.id, frm, to, second.id if frm is Owner.HUMAN else first.id)
            session.refresh(conversation)
            assert conversation.owner == to
            assert session.scalar(select(text("count(*)")).select_from(OwnershipEvent)) == events_before + 1
        else:
            with pytest.raises(InvalidTransition):
                move(session, conversation.id, frm, to, first.id)
            session.refresh(conversation)
            assert conversation.owner == frm


def test_a_conversation_not_in_the_expected_state_is_refused_and_nothing_is_recorded(settings):
    with session_scope() as session:
        conversation = make_conversation(session)
        with pytest.raises(InvalidTransition):
            transition(session, conversation.id, Owner.QUEUED, Owner.HUMAN, actor="system", agent_id=None, now=NOW)
        assert session.scalars(select(OwnershipEvent)).all() == []


def test_entering_human_sets_the_agent_and_leaving_it_remembers_the_last_agent(settings):
    with session_scope() as session:
        agent = make_account(session)
        conversation = conversation_in(session, Owner.HUMAN, agent.id)
        assert (conversation.owner, conversation.grid_code, conversation.agent_id) == ("human", "cd-wuhou", agent.id)
        transition(
            session,
            conversation.id,
            Owner.HUMAN,
            Owner.BOT,
            actor=f"account:{agent.id}",
            expected_agent_id=agent.id,
            note="问题已解决",
            now=NOW,
        )
        session.refresh(conversation)
        assert (conversation.owner, conversation.grid_code, conversation.agent_id) == ("bot", None, None)
        assert conversation.last_agent_id == agent.id
        event = session.scalars(select(OwnershipEvent).order_by(OwnershipEvent.id.desc())).first()
        assert (event.from_owner, event.to_owner, event.actor, event.note) == (
            "human",
            "bot",
            f"account:{agent.id}",
            "问题已解决",
        )


def test_a_change_conditional_on_another_agent_is_already_taken(settings):
    with session_scope() as session:
        owner, other = make_account(session, "a1"), make_account(session, "a2")
        conversation = conversation_in(session, Owner.HUMAN, owner.id)
        with pytest.raises(AlreadyTaken):
            transition(
                session, conversation.id, Owner.HUMAN, Owner.BOT, actor="system", expected_agent_id=other.id, now=NOW
            )
        session.refresh(conversation)
        assert conversation.agent_id == owner.id


def test_a_change_for_a_handoff_that_is_no_longer_the_current_one_is_refused(settings):
    with session_scope() as session:
        conversation = conversation_in(session, Owner.QUEUED, None)
        agent = make_account(session)
        with pytest.raises(InvalidTransition):
            transition(
                session,
                conversation.id,
                Owner.QUEUED,
                Owner.HUMAN,
                actor="system",
                agent_id=agent.id,
                handoff_id=12345,
                now=NOW,
            )


def test_an_agent_with_all_slots_taken_cannot_be_given_another_conversation(settings):
    with session_scope() as session:
        agent = make_account(session, max_chats=1)
        conversation_in(session, Owner.HUMAN, agent.id)
        waiting = make_conversation(session, "customer-2")
        move(session, waiting.id, Owner.BOT, Owner.QUEUED, None)
        with pytest.raises(AtCapacity):
            transition(
                session, waiting.id, Owner.QUEUED, Owner.HUMAN, actor="system", agent_id=agent.id, max_chats=1, now=NOW
            )
        session.refresh(waiting)
        assert waiting.owner == "queued"


def test_the_ownership_record_is_append_only(settings):
    with session_scope() as session:
        conversation_in(session, Owner.QUEUED, None)
    with pytest.raises(DatabaseError), session_scope() as session:
        session.execute(text("UPDATE ownership_event SET note = 'rewritten'"))
    with pytest.raises(DatabaseError), session_scope() as session:
        session.execute(text("DELETE FROM ownership_event"))


def test_ten_agents_accepting_the_same_conversation_at_once_exactly_one_gets_it(settings):
    with session_scope() as session:
        agents = [make_account(session, f"agent{i}").id for i in range(10)]
        handoff_id = make_handoff(session, now=NOW).id
    barrier = threading.Barrier(10)
    outcomes: dict[int, str] = {}

    def take(agent_id: int) -> None:
        barrier.wait()
        try:
            with session_scope() as session:
                accept(session, handoff_id, agent_id, NOW)
            outcomes[agent_id] = "accepted"
        except OwnershipError as exc:
            outcomes[agent_id] = exc.code

    threads = [threading.Thread(target=take, args=(agent_id,)) for agent_id in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["accepted"] + ["already_taken"] * 9
    [winner] = [agent_id for agent_id, outcome in outcomes.items() if outcome == "accepted"]
    with session_scope() as session:
        conversation = session.scalars(select(Conversation)).one()
        handoff = session.get_one(Handoff, handoff_id)
        assert (conversation.owner, conversation.agent_id) == ("human", winner)
        assert (handoff.status, handoff.agent_id) == (HandoffStatus.ACTIVE, winner)
        accepted = session.scalars(select(OwnershipEvent).where(OwnershipEvent.to_owner == "human")).all()
        assert [(e.from_owner, e.agent_id) for e in accepted] == [("queued", winner)]


def test_one_agent_accepting_two_chats_at_once_with_room_for_one_gets_exactly_one(settings):
    # Two different conversations: no row both UPDATEs touch. Under PostgreSQL's READ COMMITTED each UPDATE would
    # count the agent's chats without the other's uncommitted one (write skew) unless the agent is locked first.
    with session_scope() as session:
        agent = make_account(session, "agent1", max_chats=1).id
        first = make_handoff(session, "customer-1", now=NOW).id
        second = make_handoff(session, "customer-2", now=NOW).id
    outcome: list[str] = []

    def take_second() -> None:
        try:
            with session_scope() as session:
                accept(session, second, agent, NOW)
            outcome.append("accepted")
        except OwnershipError as exc:
            outcome.append(exc.code)

    with session_scope() as session:
        accept(session, first, agent, NOW)  # not committed yet when the second accept runs
        racer = threading.Thread(target=take_second)
        racer.start()
        blocked_or_done(racer)
    racer.join(JOIN_SECONDS)
    assert outcome == ["at_capacity"]
    with session_scope() as session:
        serving = session.scalars(select(Conversation.sender_id).where(Conversation.agent_id == agent)).all()
        assert serving == ["customer-1"]


def test_agents_racing_for_a_queue_on_separate_connections_take_each_chat_once_within_their_capacity(settings):
    with session_scope() as session:
        agents = [make_account(session, f"agent{i}", max_chats=2).id for i in range(4)]
        handoffs = [make_handoff(session, f"customer-{i}", now=NOW).id for i in range(6)]

    def take_all(agent_id: int) -> list[int]:
        taken = []
        for handoff_id in handoffs:
            try:
                with session_scope() as session:
                    accept(session, handoff_id, agent_id, NOW)
                taken.append(handoff_id)
            except OwnershipError:
                continue
        return taken

    outcomes = race([lambda agent_id=agent_id: take_all(agent_id) for agent_id in agents])
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    taken = [handoff_id for got in outcomes for handoff_id in got]  # type: ignore[union-attr]
    assert sorted(taken) == handoffs  # every chat taken, none twice
    assert all(len(got) <= 2 for got in outcomes)  # type: ignore[arg-type]
    with session_scope() as session:
        owners = session.execute(select(Conversation.agent_id, Conversation.owner)).all()
        assert sorted(agent_id for agent_id, owner in owners if owner == "human") == sorted(
            agent_id
            for agent_id, got in zip(agents, outcomes, strict=True)
            for _ in got  # type: ignore[union-attr]
        )
        events = session.scalars(select(OwnershipEvent).where(OwnershipEvent.to_owner == "human")).all()
        assert len(events) == 6
