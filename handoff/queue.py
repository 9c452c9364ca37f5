"""The grid queues and what agents and customers do with a handoff (no HTTP here).

A handoff enters its grid's queue when the bot escalates; the dispatcher offers it to one agent
(``pick_agent``: last agent, skill, least load), any agent of the grid may accept it; the agent
answers, transfers, hands back or closes; the customer may leave, come back, and rate. Every change
of owner goes through ``handoff.ownership.transition``. Functions flush; the caller commits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import Account
from grids.handoff_policy import HandoffPolicy
from grids.models import Agent, AgentStatus, Grid, GridMembership
from grids.routing import NoGrid
from grids.service import route_request
from conversations.models import Author, Conversation, Message, MessageStatus, Owner
from handoff.models import Handoff, HandoffReason, HandoffStatus, OwnershipEvent, Rating
from handoff.ownership import (
    AlreadyTaken,
    HandoffNotFound,
    InvalidTransition,
    NotAssigned,
    NotInGrid,
    OwnershipError,
    actor_for_account,
    transition,
)
from handoff.packet import Packet
from conversations.transcript import append_messages

PREVIEW_CHARS = 80
MAX_COMMENT_CHARS = 500
RECENT_HANDLING = 20


class AlreadyRated(OwnershipError):
    code = "already_rated"


class InvalidRating(OwnershipError):
    code = "invalid_rating"


class InvalidTransfer(OwnershipError):
    """No target, two targets, an unknown grid, yourself, or an agent who is offline."""

    code = "invalid_transfer"


class AgentNotFound(OwnershipError):
    code = "not_found"


@dataclass(frozen=True)
class QueueStatus:
    owner: Owner
    grid_code: str | None
    grid_name: str | None
    position: int | None
    eta_seconds: int | None
    agent_name: str | None
    handoff_id: int | None
    rating_pending: bool


@dataclass(frozen=True)
class QueueItem:
    handoff_id: int
    conversation_id: int
    sender_id: str
    grid_code: str
    grid_name: str
    reason: HandoffReason
    position: int
    waited_seconds: int
    queued_at: datetime
    offered_agent_id: int | None
    offered_agent_name: str | None
    profile: dict[str, object]
    preview: str
    channel: str


@dataclass(frozen=True)
class Chat:
    handoff_id: int
    conversation_id: int
    sender_id: str
    grid_code: str
    grid_name: str
    accepted_at: datetime | None
    last_seq: int
    channel: str
    waiting_reply: bool
    profile: dict[str, object]


@dataclass(frozen=True)
class AgentLoad:
    account_id: int
    name: str
    status: AgentStatus
    active_chats: int
    max_chats: int
    skills: tuple[str, ...]
    grid_codes: tuple[str, ...]


@dataclass(frozen=True)
class HandoffView:
    handoff_id: int
    conversation_id: int
    sender_id: str
    status: HandoffStatus
    grid_code: str
    grid_name: str
    reason: HandoffReason
    packet: dict[str, object]
    agent_id: int | None
    agent_name: str | None
    events: list[dict[str, object]]


@dataclass(frozen=True)
class Enqueued:
    handoff_id: int
    conversation_id: int
    grid_code: str
    grid_name: str
    position: int | None
    eta_seconds: int | None
    offered_agent_id: int | None


# --- pure rules -----------------------------------------------------------------------------------

def pick_agent(loads: Sequence[AgentLoad], skill: str | None, last_agent_id: int | None) -> int | None:
    """The agent to offer a chat to: among online agents with a free slot, the customer's last agent;
    else those with the skill (when any has it); the least load ratio, then fewest chats, then lowest id."""
    free = [a for a in loads if a.status == AgentStatus.ONLINE and a.active_chats < a.max_chats]
    if last_agent_id is not None and any(a.account_id == last_agent_id for a in free):
        return last_agent_id
    if skill:
        skilled = [a for a in free if skill in a.skills]
        free = skilled or free
    if not free:
        return None
    return min(free, key=lambda a: (a.active_chats / a.max_chats, a.active_chats, a.account_id)).account_id


def estimate_wait(position: int, online_agents_free_capacity: Sequence[int],
                  recent_handling_seconds: Sequence[float], policy: HandoffPolicy) -> int:
    """Seconds until the customer at ``position`` (1-based) should be answered.

    ``online_agents_free_capacity`` holds one entry per online agent of the grid: their free chat
    slots (0 when full). When there are at least ``position`` free slots, an agent should answer
    within the grid's first-response target. Otherwise the customers ahead of the free slots are
    served in waves, one chat per online agent (at least one, when nobody is online) per average
    handling time: the mean of ``recent_handling_seconds`` (the grid's last closed or returned
    chats), or ``policy.default_handling_seconds`` while the grid has no history.
    """
    free = sum(max(0, slots) for slots in online_agents_free_capacity)
    if free > 0 and position <= free:
        return policy.first_response_seconds
    handling = (sum(recent_handling_seconds) / len(recent_handling_seconds)
                if recent_handling_seconds else float(policy.default_handling_seconds))
    waves = math.ceil((position - free) / max(1, len(online_agents_free_capacity)))
    return round(handling * waves)


# --- reading ----------------------------------------------------------------------------------------

def agent_loads(session: Session, grid_codes: Sequence[str] | None) -> list[AgentLoad]:
    """Every active agent of these grids (None = all) with their current number of chats."""
    query = (select(Account, Agent).join(Agent, Agent.account_id == Account.id)
             .where(Account.active.is_(True)).order_by(Account.id))
    if grid_codes is not None:
        query = query.where(Account.id.in_(
            select(GridMembership.account_id).where(GridMembership.grid_code.in_(list(grid_codes)))))
    rows = session.execute(query).all()
    ids = [account.id for account, _ in rows]
    memberships: dict[int, list[str]] = {}
    for account_id, code in session.execute(
        select(GridMembership.account_id, GridMembership.grid_code)
        .where(GridMembership.account_id.in_(ids)).order_by(GridMembership.grid_code)
    ):
        memberships.setdefault(account_id, []).append(code)
    active = dict(session.execute(
        select(Conversation.agent_id, func.count())
        .where(Conversation.owner == Owner.HUMAN.value, Conversation.agent_id.in_(ids))
        .group_by(Conversation.agent_id)
    ).all())
    return [
        AgentLoad(account_id=account.id, name=account.display_name, status=AgentStatus(agent.status),
                  active_chats=active.get(account.id, 0), max_chats=agent.max_chats,
                  skills=tuple(agent.skills or ()), grid_codes=tuple(memberships.get(account.id, ())))
        for account, agent in rows
    ]


def queue_status(session: Session, sender_id: str, now: datetime) -> QueueStatus:
    """What the customer's widget shows: who owns the chat, the place in the queue, the wait, the agent."""
    conversation = _conversation_or_none(session, sender_id)
    if conversation is None:
        return QueueStatus(Owner.BOT, None, None, None, None, None, None, False)
    owner = Owner(conversation.owner)
    handoff = session.get(Handoff, conversation.handoff_id) if conversation.handoff_id else None
    rating_pending = handoff is not None and handoff.status == HandoffStatus.CLOSED and session.scalar(
        select(Rating.id).where(Rating.handoff_id == handoff.id)) is None
    grid = session.get(Grid, conversation.grid_code) if conversation.grid_code else None
    position = eta = None
    agent_name = None
    if owner is Owner.QUEUED and handoff is not None:
        position = _position(session, handoff)
        eta = _eta(session, handoff.grid_code, position)
    if owner is Owner.HUMAN and conversation.agent_id is not None:
        agent_name = _name(session, conversation.agent_id)
    show_handoff = owner is not Owner.BOT or rating_pending
    return QueueStatus(owner=owner, grid_code=grid.code if grid else None, grid_name=grid.name if grid else None,
                       position=position, eta_seconds=eta, agent_name=agent_name,
                       handoff_id=handoff.id if handoff is not None and show_handoff else None,
                       rating_pending=rating_pending)


def grid_queue(session: Session, grid_codes: Sequence[str] | None, now: datetime) -> list[QueueItem]:
    """The waiting conversations of these grids (None = all), oldest first, with their place in their grid."""
    query = (select(Handoff, Conversation).join(Conversation, Conversation.id == Handoff.conversation_id)
             .where(Handoff.status == HandoffStatus.QUEUED.value, Conversation.owner == Owner.QUEUED.value,
                    Conversation.handoff_id == Handoff.id)
             .order_by(Handoff.queued_at, Handoff.id))
    if grid_codes is not None:
        query = query.where(Handoff.grid_code.in_(list(grid_codes)))
    rows = session.execute(query).all()
    names = _grid_names(session)
    places: dict[str, int] = {}
    items = []
    for handoff, conversation in rows:
        places[handoff.grid_code] = places.get(handoff.grid_code, 0) + 1
        items.append(QueueItem(
            handoff_id=handoff.id, conversation_id=conversation.id, sender_id=conversation.sender_id,
            grid_code=handoff.grid_code, grid_name=names.get(handoff.grid_code, handoff.grid_code),
            reason=HandoffReason(handoff.reason), position=places[handoff.grid_code],
            waited_seconds=max(0, int((now - handoff.queued_at).total_seconds())), queued_at=handoff.queued_at,
            offered_agent_id=handoff.offered_agent_id,
            offered_agent_name=_name(session, handoff.offered_agent_id) if handoff.offered_agent_id else None,
            profile=_profile(conversation, handoff), preview=_preview(session, conversation.id),
            channel=conversation.channel,
        ))
    return items


def my_chats(session: Session, agent_id: int) -> list[Chat]:
    """The conversations ``agent_id`` serves now, in the order they were accepted."""
    rows = session.execute(
        select(Handoff, Conversation).join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.status == HandoffStatus.ACTIVE.value, Handoff.agent_id == agent_id,
               Conversation.owner == Owner.HUMAN.value, Conversation.agent_id == agent_id,
               Conversation.handoff_id == Handoff.id)
        .order_by(Handoff.accepted_at, Handoff.id)
    ).all()
    return [_chat(session, handoff, conversation) for handoff, conversation in rows]


def handoff_view(session: Session, handoff_id: int) -> HandoffView:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound(f"转人工请求 {handoff_id} 不存在")
    conversation = session.get_one(Conversation, handoff.conversation_id)
    events = [
        {"from": e.from_owner, "to": e.to_owner, "actor": e.actor, "note": e.note, "grid": e.grid_code,
         "agent_id": e.agent_id, "created_at": e.created_at.isoformat()}
        for e in session.scalars(select(OwnershipEvent).where(OwnershipEvent.handoff_id == handoff_id)
                                 .order_by(OwnershipEvent.id))
    ]
    grid = session.get_one(Grid, handoff.grid_code)
    return HandoffView(
        handoff_id=handoff.id, conversation_id=conversation.id, sender_id=conversation.sender_id,
        status=HandoffStatus(handoff.status), grid_code=grid.code, grid_name=grid.name,
        reason=HandoffReason(handoff.reason), packet=dict(handoff.packet or {}), agent_id=handoff.agent_id,
        agent_name=_name(session, handoff.agent_id) if handoff.agent_id else None, events=events,
    )


# --- the customer's side ----------------------------------------------------------------------------

def request_handoff(session: Session, sender_id: str, packet: Packet, now: datetime) -> Enqueued:
    """Queue the conversation in the packet's grid (or the routed one when that grid is unknown).

    Idempotent: a conversation already queued or served is left alone and its current state returned.
    """
    conversation = _conversation_or_none(session, sender_id)
    if conversation is None:
        raise HandoffNotFound(f"会话 {sender_id} 不存在")
    if conversation.owner in (Owner.QUEUED, Owner.HUMAN):
        return _current_enqueued(session, conversation)
    grid = _grid_for(session, packet, conversation)
    handoff = Handoff(conversation_id=conversation.id, reason=packet.reason.value, grid_code=grid.code,
                      status=HandoffStatus.QUEUED.value, packet=packet.to_json(), skill=packet.skill,
                      created_at=now, queued_at=now)
    session.add(handoff)
    session.flush()
    last_agent_id = conversation.last_agent_id
    try:
        transition(session, conversation.id, Owner.BOT, Owner.QUEUED, actor="bot", handoff_id=handoff.id,
                   grid_code=grid.code, note=packet.reason.value, now=now)
    except OwnershipError:
        session.delete(handoff)
        session.flush()
        session.refresh(conversation)
        if conversation.owner in (Owner.QUEUED, Owner.HUMAN):  # a concurrent request won
            return _current_enqueued(session, conversation)
        raise
    handoff.offered_agent_id = pick_agent(agent_loads(session, [grid.code]), handoff.skill, last_agent_id)
    session.flush()
    position = _position(session, handoff)
    return Enqueued(handoff_id=handoff.id, conversation_id=conversation.id, grid_code=grid.code,
                    grid_name=grid.name, position=position, eta_seconds=_eta(session, grid.code, position),
                    offered_agent_id=handoff.offered_agent_id)


def customer_leaves(session: Session, sender_id: str, now: datetime, *, to_ticket: bool) -> HandoffStatus | None:
    """The customer leaves the queue or the chat: back to the bot. The handoff ends as ``ticket`` when
    they chose to leave a message, else ``abandoned`` (from the queue) or ``returned`` (from an agent).
    None when there is nothing to leave."""
    for _ in range(3):  # the owner may change between our read and our update (an agent accepting)
        conversation = _conversation_or_none(session, sender_id)
        if conversation is None or conversation.owner not in (Owner.QUEUED, Owner.HUMAN):
            return None
        current = Owner(conversation.owner)
        handoff_id = conversation.handoff_id
        try:
            transition(session, conversation.id, current, Owner.BOT, actor="customer", handoff_id=handoff_id,
                       note="客户留言" if to_ticket else "客户返回智能助手", now=now)
        except OwnershipError:
            session.expire_all()
            continue
        if to_ticket:
            status = HandoffStatus.TICKET
        else:
            status = HandoffStatus.ABANDONED if current is Owner.QUEUED else HandoffStatus.RETURNED
        if handoff_id is not None:
            _end(session, handoff_id, status, now)
        return status
    raise AlreadyTaken("会话状态正在变化, 请重试")


def reopen(session: Session, sender_id: str, now: datetime) -> bool:
    """A new customer message in a closed conversation gives it back to the bot; True when it did."""
    conversation = _conversation_or_none(session, sender_id)
    if conversation is None or conversation.owner != Owner.CLOSED:
        return False
    try:
        transition(session, conversation.id, Owner.CLOSED, Owner.BOT, actor="customer",
                   handoff_id=conversation.handoff_id, note="客户再次发消息", now=now)
    except OwnershipError:
        return False  # reopened (or changed) by a concurrent request
    return True


def rate(session: Session, sender_id: str, handoff_id: int, score: object, comment: object,
         now: datetime) -> Rating:
    """The customer's rating (1–5, optional comment ≤ 500 characters) of their closed handoff."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidRating("评分必须是 1 到 5 的整数")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
        raise InvalidRating(f"评价内容不能超过 {MAX_COMMENT_CHARS} 个字符")
    handoff = session.scalar(
        select(Handoff).join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.id == handoff_id, Conversation.sender_id == sender_id,
               Handoff.status == HandoffStatus.CLOSED.value)
    )
    if handoff is None:
        raise HandoffNotFound("没有可评价的会话")
    if session.scalar(select(Rating.id).where(Rating.handoff_id == handoff.id)) is not None:
        raise AlreadyRated("您已经评价过本次服务")
    rating = Rating(handoff_id=handoff.id, score=score, comment=comment.strip(), created_at=now)
    session.add(rating)
    try:
        session.flush()
    except IntegrityError:  # a concurrent rating of the same handoff; the caller rolls back
        raise AlreadyRated("您已经评价过本次服务") from None
    return rating


def touch_customer(session: Session, sender_id: str, now: datetime) -> None:
    """The customer's page or client was seen (a message, a poll, a live connection)."""
    session.execute(update(Conversation).where(Conversation.sender_id == sender_id)
                    .values(customer_seen_at=now).execution_options(synchronize_session=False))
    _expire_by_sender(session, sender_id)


# --- the agent's side -------------------------------------------------------------------------------

def accept(session: Session, handoff_id: int, agent_id: int, now: datetime) -> Chat:
    """The agent takes a waiting conversation; of many concurrent accepts exactly one wins."""
    handoff = _handoff(session, handoff_id)
    agent = _agent_in_grid(session, agent_id, handoff.grid_code)
    if handoff.status == HandoffStatus.ACTIVE:
        raise AlreadyTaken("该会话已被其他客服接入")
    if handoff.status != HandoffStatus.QUEUED:
        raise InvalidTransition("该转人工请求已结束")
    transition(session, handoff.conversation_id, Owner.QUEUED, Owner.HUMAN, actor=actor_for_account(agent_id),
               handoff_id=handoff.id, grid_code=handoff.grid_code, agent_id=agent_id, max_chats=agent.max_chats,
               now=now)
    handoff.status = HandoffStatus.ACTIVE.value
    handoff.agent_id = agent_id
    handoff.accepted_at = now
    session.flush()
    return _chat(session, handoff, session.get_one(Conversation, handoff.conversation_id))


def record_agent_message(session: Session, handoff_id: int, agent_id: int, text: str, now: datetime) -> Message:
    """Store what the assigned agent wrote to the customer (the gateway delivers it)."""
    handoff = _handoff(session, handoff_id)
    # Conditional on the assignment, so a message never lands after a transfer or a hand back.
    held = session.execute(
        update(Conversation)
        .where(Conversation.id == handoff.conversation_id, Conversation.owner == Owner.HUMAN.value,
               Conversation.agent_id == agent_id, Conversation.handoff_id == handoff.id)
        .values(updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if held != 1:
        raise NotAssigned("您没有接待该会话")
    [message] = append_messages(session, handoff.conversation_id, [
        (Author.AGENT, text, {"agent_name": _name(session, agent_id)}, MessageStatus.SENT)])
    if handoff.first_response_at is None:
        handoff.first_response_at = now
    session.flush()
    return message


def transfer(session: Session, handoff_id: int, agent_id: int, now: datetime, *, to_grid: str | None = None,
             to_agent_id: int | None = None, note: str) -> None:
    """Pass a chat on: to another grid's queue (offered again there) or straight to another agent."""
    if (to_grid is None) == (to_agent_id is None):
        raise InvalidTransfer("请选择一个转接目标: 网格或客服")
    handoff = _handoff(session, handoff_id)
    conversation = _assigned(session, handoff, agent_id)
    actor = actor_for_account(agent_id)
    record = {"at": now.isoformat(), "by": _name(session, agent_id), "from_grid": handoff.grid_code, "note": note}
    if to_grid is not None:
        grid = session.get(Grid, to_grid)
        if grid is None:
            raise InvalidTransfer(f"网格 {to_grid} 不存在")
        _as_assigned(lambda: transition(
            session, conversation.id, Owner.HUMAN, Owner.QUEUED, actor=actor, handoff_id=handoff.id,
            grid_code=grid.code, expected_agent_id=agent_id, note=note, now=now))
        handoff.status = HandoffStatus.QUEUED.value
        handoff.grid_code = grid.code
        handoff.agent_id = None
        handoff.accepted_at = None
        handoff.queued_at = now
        loads = [load for load in agent_loads(session, [grid.code]) if load.account_id != agent_id]
        handoff.offered_agent_id = pick_agent(loads, handoff.skill, None)
        add_packet_note(handoff, {**record, "to_grid": grid.code})
    else:
        assert to_agent_id is not None
        if to_agent_id == agent_id:
            raise InvalidTransfer("不能转接给自己")
        target = _agent_in_grid(session, to_agent_id, handoff.grid_code)
        if target.status == AgentStatus.OFFLINE:
            raise InvalidTransfer("该客服当前离线")
        _as_assigned(lambda: transition(
            session, conversation.id, Owner.HUMAN, Owner.HUMAN, actor=actor, handoff_id=handoff.id,
            agent_id=to_agent_id, expected_agent_id=agent_id, max_chats=target.max_chats, note=note, now=now))
        handoff.agent_id = to_agent_id
        add_packet_note(handoff, {**record, "to_agent_id": to_agent_id, "to_agent": _name(session, to_agent_id)})
    session.flush()


def hand_back(session: Session, handoff_id: int, agent_id: int, now: datetime, note: str = "") -> None:
    """The agent gives the conversation back to the bot."""
    handoff = _handoff(session, handoff_id)
    conversation = _assigned(session, handoff, agent_id)
    _as_assigned(lambda: transition(
        session, conversation.id, Owner.HUMAN, Owner.BOT, actor=actor_for_account(agent_id), handoff_id=handoff.id,
        expected_agent_id=agent_id, note=note, now=now))
    _end(session, handoff.id, HandoffStatus.RETURNED, now)


def close(session: Session, handoff_id: int, agent_id: int, now: datetime) -> None:
    """The agent ends the chat; the customer is asked for a rating."""
    handoff = _handoff(session, handoff_id)
    conversation = _assigned(session, handoff, agent_id)
    _as_assigned(lambda: transition(
        session, conversation.id, Owner.HUMAN, Owner.CLOSED, actor=actor_for_account(agent_id),
        handoff_id=handoff.id, expected_agent_id=agent_id, now=now))
    _end(session, handoff.id, HandoffStatus.CLOSED, now)


def set_agent_status(session: Session, agent_id: int, status: AgentStatus | str) -> None:
    """online (takes new chats) · away (keeps their chats, gets no new ones) · offline. ValueError if unknown."""
    value = AgentStatus(status)
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise AgentNotFound(f"客服 {agent_id} 不存在")
    agent.status = value.value
    session.flush()


def touch_agent(session: Session, agent_id: int, now: datetime) -> None:
    session.execute(update(Agent).where(Agent.account_id == agent_id).values(last_seen_at=now)
                    .execution_options(synchronize_session=False))


# --- helpers ----------------------------------------------------------------------------------------

def _conversation_or_none(session: Session, sender_id: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.sender_id == sender_id))


def _expire_by_sender(session: Session, sender_id: str) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Conversation) and obj.sender_id == sender_id:
            session.expire(obj)


def _handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound(f"转人工请求 {handoff_id} 不存在")
    return handoff


def _agent_in_grid(session: Session, agent_id: int, grid_code: str) -> Agent:
    """The agent row of an active account that works in (or manages) the grid; NotInGrid otherwise."""
    member = session.scalar(
        select(Agent).join(Account, Account.id == Agent.account_id)
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
    if (conversation.owner != Owner.HUMAN or conversation.agent_id != agent_id
            or conversation.handoff_id != handoff.id or handoff.status != HandoffStatus.ACTIVE):
        raise NotAssigned("您没有接待该会话")
    return conversation


def _as_assigned(change: Callable[[], None]) -> None:
    """Run a change of an agent's own chat; losing it to a concurrent change means it is no longer theirs."""
    try:
        change()
    except AlreadyTaken as exc:
        raise NotAssigned("您没有接待该会话") from exc


def _end(session: Session, handoff_id: int, status: HandoffStatus, now: datetime) -> None:
    handoff = session.get_one(Handoff, handoff_id)
    handoff.status = status.value
    handoff.ended_at = now
    session.flush()


def add_packet_note(handoff: Handoff, note: dict[str, object]) -> None:
    """Append a transfer or overflow note to the packet's ``notes`` (shown to the next agent)."""
    packet = dict(handoff.packet or {})
    notes = list(packet.get("notes") or [])  # type: ignore[call-overload]
    notes.append(note)
    packet["notes"] = notes
    handoff.packet = packet  # a new dict, so the JSON column sees the change


def _grid_for(session: Session, packet: Packet, conversation: Conversation) -> Grid:
    """The packet's grid; an unknown one is re-routed from the customer's profile, or the catch-all."""
    grid = session.get(Grid, packet.grid)
    if grid is not None:
        return grid
    profile = {**{k: v for k, v in (conversation.profile or {}).items() if isinstance(v, str)}, **packet.profile}
    try:
        return route_request(session, profile.get("region"), profile.get("tier"), None)
    except NoGrid:
        return route_request(session, None, None, None)


def _current_enqueued(session: Session, conversation: Conversation) -> Enqueued:
    handoff = session.get_one(Handoff, conversation.handoff_id)
    grid = session.get_one(Grid, handoff.grid_code)
    position = eta = None
    if conversation.owner == Owner.QUEUED:
        position = _position(session, handoff)
        eta = _eta(session, grid.code, position)
    return Enqueued(handoff_id=handoff.id, conversation_id=conversation.id, grid_code=grid.code,
                    grid_name=grid.name, position=position, eta_seconds=eta,
                    offered_agent_id=handoff.offered_agent_id)


def _position(session: Session, handoff: Handoff) -> int:
    """1-based place among the grid's queued handoffs, by queued_at then id."""
    ahead = session.scalar(
        select(func.count()).select_from(Handoff)
        .where(Handoff.status == HandoffStatus.QUEUED.value, Handoff.grid_code == handoff.grid_code,
               or_(Handoff.queued_at < handoff.queued_at,
                   and_(Handoff.queued_at == handoff.queued_at, Handoff.id < handoff.id)))
    )
    return int(ahead or 0) + 1


def _eta(session: Session, grid_code: str, position: int) -> int:
    grid = session.get_one(Grid, grid_code)
    free = [max(0, load.max_chats - load.active_chats) for load in agent_loads(session, [grid_code])
            if load.status == AgentStatus.ONLINE]
    return estimate_wait(position, free, recent_handling_seconds(session, grid_code), grid.handoff_policy())


def recent_handling_seconds(session: Session, grid_code: str) -> list[float]:
    """How long the grid's last chats took, accepted → ended (closed or handed back), newest first."""
    rows = session.execute(
        select(Handoff.accepted_at, Handoff.ended_at)
        .where(Handoff.grid_code == grid_code,
               Handoff.status.in_([HandoffStatus.CLOSED.value, HandoffStatus.RETURNED.value]),
               Handoff.accepted_at.is_not(None), Handoff.ended_at.is_not(None))
        .order_by(Handoff.ended_at.desc()).limit(RECENT_HANDLING)
    ).all()
    return [max(0.0, (ended - accepted).total_seconds()) for accepted, ended in rows]


def _chat(session: Session, handoff: Handoff, conversation: Conversation) -> Chat:
    last_author = session.scalar(select(Message.author).where(Message.conversation_id == conversation.id)
                                 .order_by(Message.seq.desc()).limit(1))
    return Chat(handoff_id=handoff.id, conversation_id=conversation.id, sender_id=conversation.sender_id,
                grid_code=handoff.grid_code, grid_name=session.get_one(Grid, handoff.grid_code).name,
                accepted_at=handoff.accepted_at, last_seq=conversation.last_seq, channel=conversation.channel,
                waiting_reply=last_author == Author.CUSTOMER, profile=_profile(conversation, handoff))


def _profile(conversation: Conversation, handoff: Handoff) -> dict[str, object]:
    """What the customer's client told us, completed by the packet's profile."""
    from_packet = (handoff.packet or {}).get("profile")
    return {**(from_packet if isinstance(from_packet, dict) else {}), **(conversation.profile or {})}


def _preview(session: Session, conversation_id: int) -> str:
    text = session.scalar(select(Message.text).where(Message.conversation_id == conversation_id,
                                                     Message.author == Author.CUSTOMER.value)
                          .order_by(Message.seq.desc()).limit(1))
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def _name(session: Session, account_id: int) -> str:
    return session.scalar(select(Account.display_name).where(Account.id == account_id)) or ""


def _grid_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Grid.code, Grid.name)).all())
