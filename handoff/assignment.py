"""What agents do with a handoff (no HTTP here): accepting, answering, transferring, handing back and
closing, agent status, and the agent's views of their chats. The dispatcher's choice is ``handoff.dispatch``;
``assign_waiting`` gives waiting customers to free agents with it (DESIGN.md "Grids and routing").

Every change of owner goes through ``handoff.ownership.transition``. Functions flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.actors import account_id_of, actor_for_account
from accounts.directory import account_names
from accounts.models import Account
from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from conversations.transcript import append_messages
from griddesk.db import rows_changed, utcnow
from grids.agent_status import change_status, is_present
from grids.models import Agent, AgentStatus, Grid, GridMembership
from handoff.dispatch import AgentLoad, agent_loads, pick_agent
from handoff.lookups import (
    account_name,
    add_packet_note,
    customer_profile,
    end_handoff,
    get_handoff,
    handoff_question,
    queued_handoffs,
    recent_customer_texts,
)
from handoff.models import Handoff, HandoffReason, HandoffStatus, OwnershipEvent
from handoff.ownership import (
    AlreadyTaken,
    InvalidTransition,
    NotAssigned,
    NotInGrid,
    OwnershipError,
    transition,
)
from handoff.rating import new_rating_token


class InvalidTransfer(OwnershipError):
    """No target, two targets, an unknown grid, yourself, or an agent who is not online."""

    code = "invalid_transfer"


class AgentNotFound(OwnershipError):
    code = "not_found"


class AgentOffline(OwnershipError):
    """An offline agent takes no chats (they switch to online first)."""

    code = "agent_offline"
    default_message = "您当前为离线状态，请先把状态切换为在线再接入会话。"


class ChatsStillOpen(OwnershipError):
    """Going offline while serving customers would leave them with nobody."""

    code = "chats_still_open"


@dataclass(frozen=True)
class Chat:
    """A conversation an agent serves, as staff see it (no sender id: see ``handoff.queue.QueueItem``)."""

    handoff_id: int
    conversation_id: int
    grid_code: str
    grid_name: str
    accepted_at: datetime | None
    last_seq: int
    channel: str
    waiting_reply: bool
    profile: dict[str, object]
    customer_id: int | None = None  # the verified customer (customers/), None = anonymous
    question: str = ""  # what the customer needs (``handoff.lookups.handoff_question``)


@dataclass(frozen=True)
class HandoffView:
    """A handoff with its events, as staff see it (no sender id: see ``handoff.queue.QueueItem``)."""

    handoff_id: int
    conversation_id: int
    status: HandoffStatus
    grid_code: str
    grid_name: str
    reason: HandoffReason
    packet: dict[str, object]
    agent_id: int | None
    agent_name: str | None
    customer_id: int | None
    events: list[dict[str, object]]
    profile: dict[str, object]
    question: str = ""


# --- pure rules -----------------------------------------------------------------------------------


def my_chats(session: Session, agent_id: int) -> list[Chat]:
    """The conversations ``agent_id`` serves now, in the order they were accepted."""
    rows = session.execute(
        select(Handoff, Conversation)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.status == HandoffStatus.ACTIVE.value,
            Handoff.agent_id == agent_id,
            Conversation.owner == Owner.HUMAN.value,
            Conversation.agent_id == agent_id,
            Conversation.handoff_id == Handoff.id,
        )
        .order_by(Handoff.accepted_at, Handoff.id)
    ).all()
    return [_chat(session, handoff, conversation) for handoff, conversation in rows]


def handoff_view(session: Session, handoff_id: int) -> HandoffView:
    handoff = get_handoff(session, handoff_id)
    conversation = session.get_one(Conversation, handoff.conversation_id)
    rows = list(
        session.scalars(
            select(OwnershipEvent).where(OwnershipEvent.handoff_id == handoff_id).order_by(OwnershipEvent.id)
        )
    )
    people = account_names(session, [i for e in rows if (i := account_id_of(e.actor)) is not None])
    events: list[dict[str, object]] = [
        {
            "from": e.from_owner,
            "to": e.to_owner,
            "actor": e.actor,
            # a person by their name; the customer, the bot and the system by the labels API's ``actor``
            "actor_name": people.get(account_id, "") if (account_id := account_id_of(e.actor)) is not None else None,
            "note": e.note,
            "grid": e.grid_code,
            "agent_id": e.agent_id,
            "created_at": e.created_at.isoformat(),
        }
        for e in rows
    ]
    grid = session.get_one(Grid, handoff.grid_code)
    return HandoffView(
        handoff_id=handoff.id,
        conversation_id=conversation.id,
        status=HandoffStatus(handoff.status),
        grid_code=grid.code,
        grid_name=grid.name,
        reason=HandoffReason(handoff.reason),
        packet=dict(handoff.packet or {}),
        agent_id=handoff.agent_id,
        agent_name=account_name(session, handoff.agent_id) if handoff.agent_id else None,
        customer_id=conversation.customer_id,
        events=events,
        profile=customer_profile(conversation, handoff),
        question=handoff_question(handoff, recent_customer_texts(session, [conversation.id]).get(conversation.id, [])),
    )


# --- the agent's side -----------------------------------------------------------------------------


def accept(session: Session, handoff_id: int, agent_id: int, now: datetime, *, actor: str | None = None) -> Chat:
    """The agent takes a waiting conversation; of many concurrent accepts exactly one wins. ``actor``:
    who decided (default the agent; ``system`` when the dispatcher assigned it)."""
    handoff = get_handoff(session, handoff_id)
    agent = _agent_in_grid(session, agent_id, handoff.grid_code)
    if agent.status == AgentStatus.OFFLINE:
        raise AgentOffline()
    if handoff.status == HandoffStatus.ACTIVE:
        raise AlreadyTaken("该会话已被其他客服接入")
    if handoff.status != HandoffStatus.QUEUED:
        raise InvalidTransition("该转人工请求已结束")
    transition(
        session,
        handoff.conversation_id,
        Owner.QUEUED,
        Owner.HUMAN,
        actor=actor or actor_for_account(agent_id),
        handoff_id=handoff.id,
        grid_code=handoff.grid_code,
        agent_id=agent_id,
        max_chats=agent.max_chats,
        note="系统自动分配" if actor == "system" else "",
        now=now,
    )
    handoff.status = HandoffStatus.ACTIVE
    handoff.agent_id = agent_id
    handoff.accepted_at = now
    if handoff.first_accepted_at is None:  # a transfer to a grid accepts it again: the reports keep the first
        handoff.first_accepted_at = now
    session.flush()
    return _chat(session, handoff, session.get_one(Conversation, handoff.conversation_id))


def record_agent_message(session: Session, handoff_id: int, agent_id: int, text: str, now: datetime) -> Message:
    """Store what the assigned agent wrote to the customer (the gateway delivers it)."""
    handoff = get_handoff(session, handoff_id)
    # Conditional on the assignment, so a message never lands after a transfer or a hand back.
    held = rows_changed(
        session.execute(
            update(Conversation)
            .where(
                Conversation.id == handoff.conversation_id,
                Conversation.owner == Owner.HUMAN.value,
                Conversation.agent_id == agent_id,
                Conversation.handoff_id == handoff.id,
            )
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if held != 1:
        raise NotAssigned("您没有接待该会话")
    [message] = append_messages(
        session,
        handoff.conversation_id,
        [(Author.AGENT, text, {"agent_name": account_name(session, agent_id)}, MessageStatus.SENT)],
    )
    if handoff.first_response_at is None:
        handoff.first_response_at = now
    session.flush()
    return message


def transfer(
    session: Session,
    handoff_id: int,
    agent_id: int,
    now: datetime,
    *,
    to_grid: str | None = None,
    to_agent_id: int | None = None,
    note: str,
) -> None:
    """Pass a chat on: to another grid's queue (offered again there) or straight to another agent."""
    if (to_grid is None) == (to_agent_id is None):
        raise InvalidTransfer("请选择一个转接目标：网格或同事，只能选一个。")
    handoff = get_handoff(session, handoff_id)
    conversation = _assigned(session, handoff, agent_id)
    actor = actor_for_account(agent_id)
    record = {
        "at": now.isoformat(),
        "by": account_name(session, agent_id),
        "from_grid": handoff.grid_code,
        "note": note,
    }
    if to_grid is not None:
        grid = session.get(Grid, to_grid)
        if grid is None:
            raise InvalidTransfer(f"网格 {to_grid} 不存在")
        _as_assigned(lambda: requeue(session, handoff, conversation, grid.code, agent_id, actor, note, now))
        loads = [load for load in agent_loads(session, [grid.code]) if load.account_id != agent_id]
        handoff.offered_agent_id = pick_agent(loads, handoff.skill, None)
        add_packet_note(handoff, {**record, "to_grid": grid.code})
    else:
        assert to_agent_id is not None
        if to_agent_id == agent_id:
            raise InvalidTransfer("不能转接给自己")
        target = _agent_in_grid(session, to_agent_id, handoff.grid_code)
        if target.status != AgentStatus.ONLINE:  # away agents get no new chats, offline ones none at all
            raise InvalidTransfer("这位同事当前不在线（忙碌或离线），请选择在线的同事，或转到网格排队。")
        _as_assigned(
            lambda: transition(
                session,
                conversation.id,
                Owner.HUMAN,
                Owner.HUMAN,
                actor=actor,
                handoff_id=handoff.id,
                agent_id=to_agent_id,
                expected_agent_id=agent_id,
                max_chats=target.max_chats,
                note=note,
                now=now,
            )
        )
        handoff.agent_id = to_agent_id
        add_packet_note(handoff, {**record, "to_agent_id": to_agent_id, "to_agent": account_name(session, to_agent_id)})
    session.flush()


def requeue(
    session: Session,
    handoff: Handoff,
    conversation: Conversation,
    grid_code: str,
    agent_id: int,
    actor: str,
    note: str,
    now: datetime,
) -> None:
    """Agent ``agent_id``'s chat goes back to ``grid_code``'s queue (a transfer to a grid, or the queue sweep when
    the agent left): owner human → queued, the handoff queued again, unoffered, its wait and overflow clocks
    started again. :class:`OwnershipError` when the chat is no longer that agent's (closed, transferred, taken)."""
    transition(
        session,
        conversation.id,
        Owner.HUMAN,
        Owner.QUEUED,
        actor=actor,
        handoff_id=handoff.id,
        grid_code=grid_code,
        expected_agent_id=agent_id,
        note=note,
        now=now,
    )
    handoff.status = HandoffStatus.QUEUED
    handoff.grid_code = grid_code
    handoff.agent_id = None
    handoff.accepted_at = None
    handoff.offered_agent_id = None
    handoff.queued_at = now


def hand_back(session: Session, handoff_id: int, agent_id: int, now: datetime, note: str = "") -> None:
    """The agent gives the conversation back to the bot."""
    handoff = get_handoff(session, handoff_id)
    conversation = _assigned(session, handoff, agent_id)
    _as_assigned(
        lambda: transition(
            session,
            conversation.id,
            Owner.HUMAN,
            Owner.BOT,
            actor=actor_for_account(agent_id),
            handoff_id=handoff.id,
            expected_agent_id=agent_id,
            note=note,
            now=now,
        )
    )
    end_handoff(session, handoff.id, HandoffStatus.RETURNED, now)


def close(session: Session, handoff_id: int, agent_id: int, now: datetime) -> str:
    """The agent ends the chat; the customer is asked for a rating. Returns the one-time rating token for the
    customer's close notice (``handoff.rating``; only its hash is kept)."""
    handoff = get_handoff(session, handoff_id)
    conversation = _assigned(session, handoff, agent_id)
    _as_assigned(
        lambda: transition(
            session,
            conversation.id,
            Owner.HUMAN,
            Owner.CLOSED,
            actor=actor_for_account(agent_id),
            handoff_id=handoff.id,
            expected_agent_id=agent_id,
            now=now,
        )
    )
    end_handoff(session, handoff.id, HandoffStatus.CLOSED, now)
    token, hashed = new_rating_token()
    handoff.rating_token_hash = hashed
    session.flush()
    return token


def set_agent_status(session: Session, agent_id: int, status: AgentStatus | str, now: datetime | None = None) -> None:
    """online (takes new chats) · away (keeps their chats, gets no new ones) · offline (only with no chat
    open: ChatsStillOpen otherwise). ValueError if unknown. A change (not a repeat of the current status)
    is recorded in ``agent_status_event`` (online time in reports)."""
    value = AgentStatus(status)
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise AgentNotFound(f"客服 {agent_id} 不存在")
    if value == AgentStatus.OFFLINE and agent.status != value:
        serving = len(my_chats(session, agent_id))
        if serving:
            raise ChatsStillOpen(
                f"您还有 {serving} 个进行中的会话，请先结束或转出后再切换为离线；暂停接待请选「忙碌」。"
            )
    change_status(session, agent, value, now or utcnow())


@dataclass(frozen=True)
class Assignment:
    agent_id: int
    chat: Chat


def assign_waiting(session: Session, grid_codes: Sequence[str] | None, now: datetime) -> list[Assignment]:
    """Give waiting customers of these grids (None = all), oldest first, to free agents: online, their
    console open (``grids.agent_status.is_present``), with a free slot; the customer's last agent, else
    one with the skill, else the least loaded (``pick_agent``). Returns the chats assigned; a customer
    taken meanwhile by someone else is skipped."""
    rows = session.execute(queued_handoffs(grid_codes)).all()
    if not rows:
        return []
    loads = {
        load.account_id: load
        for load in agent_loads(session, sorted({handoff.grid_code for handoff, _ in rows}))
        if is_present(load.seen_at, now)
    }
    assigned = []
    for handoff, conversation in rows:
        candidates = [load for load in loads.values() if handoff.grid_code in load.grid_codes]
        agent_id = pick_agent(candidates, handoff.skill, conversation.last_agent_id)
        if agent_id is None:
            continue
        try:
            assigned.append(Assignment(agent_id, accept(session, handoff.id, agent_id, now, actor="system")))
        except OwnershipError:  # accepted, left or moved meanwhile, or the agent filled up elsewhere
            session.expire_all()
            continue
        load = loads[agent_id]
        loads[agent_id] = replace(load, active_chats=load.active_chats + 1)
    return assigned


def touch_agent(session: Session, agent_id: int, now: datetime) -> None:
    session.execute(
        update(Agent)
        .where(Agent.account_id == agent_id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


# --- helpers --------------------------------------------------------------------------------------


def transfer_agents(session: Session, grid_code: str, agent_id: int) -> list[AgentLoad]:
    """The colleagues a chat of ``grid_code`` can be passed to: online agents of that grid, not yourself."""
    return [
        load
        for load in agent_loads(session, [grid_code])
        if load.status == AgentStatus.ONLINE and load.account_id != agent_id
    ]


def _agent_in_grid(session: Session, agent_id: int, grid_code: str) -> Agent:
    """The agent row of an active account that works in (or manages) the grid; NotInGrid otherwise."""
    member = session.scalar(
        select(Agent)
        .join(Account, Account.id == Agent.account_id)
        .join(GridMembership, GridMembership.account_id == Agent.account_id)
        .where(Agent.account_id == agent_id, Account.active.is_(True), GridMembership.grid_code == grid_code)
    )
    if member is None:
        raise NotInGrid("您不属于该会话所在的网格")
    return member


def _assigned(session: Session, handoff: Handoff, agent_id: int) -> Conversation:
    """The conversation, when ``agent_id`` serves it in this handoff; NotAssigned otherwise."""
    conversation = session.get_one(Conversation, handoff.conversation_id)
    session.refresh(conversation)
    if (
        conversation.owner != Owner.HUMAN
        or conversation.agent_id != agent_id
        or conversation.handoff_id != handoff.id
        or handoff.status != HandoffStatus.ACTIVE
    ):
        raise NotAssigned("您没有接待该会话")
    return conversation


def _as_assigned(change: Callable[[], None]) -> None:
    """Run a change of an agent's own chat; losing it to a concurrent change means it is no longer theirs."""
    try:
        change()
    except AlreadyTaken as exc:
        raise NotAssigned("您没有接待该会话") from exc


def _chat(session: Session, handoff: Handoff, conversation: Conversation) -> Chat:
    last_author = session.scalar(
        select(Message.author).where(Message.conversation_id == conversation.id).order_by(Message.seq.desc()).limit(1)
    )
    return Chat(
        handoff_id=handoff.id,
        conversation_id=conversation.id,
        grid_code=handoff.grid_code,
        grid_name=session.get_one(Grid, handoff.grid_code).name,
        accepted_at=handoff.accepted_at,
        last_seq=conversation.last_seq,
        channel=conversation.channel,
        waiting_reply=last_author == Author.CUSTOMER,
        profile=customer_profile(conversation, handoff),
        customer_id=conversation.customer_id,
        question=handoff_question(handoff, recent_customer_texts(session, [conversation.id]).get(conversation.id, [])),
    )
