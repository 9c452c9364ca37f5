"""The grid queues, seen from the customer's side (no HTTP here).

A handoff enters its grid's queue when the bot escalates (``request_handoff``); the dispatcher offers it
to one agent (``handoff.assignment.pick_agent``: last agent, skill, least load). The customer sees their
place and estimated wait (``handoff.wait``), may leave, and comes back to the bot by writing again after
a close. What agents do is in ``handoff.assignment``, the rating in ``handoff.rating``. Every change of
owner goes through ``handoff.ownership.transition``. Functions flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from accounts.directory import account_names
from conversations.milestones import Milestone, record_first
from conversations.models import Author, Conversation, Message, Owner
from customers.models import Customer
from griddesk.db import utcnow
from grids.models import Grid
from grids.routing import NoGrid
from grids.service import route_request
from handoff.dispatch import agent_loads, pick_agent
from handoff.lookups import (
    account_name,
    conversation_or_none,
    customer_profile,
    end_handoff,
    grid_names,
    handoff_question,
    queued_handoffs,
    recent_customer_texts,
)
from handoff.models import Handoff, HandoffReason, HandoffStatus, Rating
from handoff.ownership import AlreadyTaken, HandoffNotFound, OwnershipError, transition
from handoff.packet import Packet
from handoff.wait import GridWaits, eta_seconds, queue_position, remaining_wait

PREVIEW_CHARS = 80


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
    """A waiting conversation as staff see it: named by its id, never by the customer's sender id (the
    customer's only credential)."""

    handoff_id: int
    conversation_id: int
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
    customer_id: int | None = None  # the verified customer (customers/), None = anonymous
    question: str = ""  # what the customer needs (``handoff.lookups.handoff_question``)


@dataclass(frozen=True)
class Enqueued:
    handoff_id: int
    conversation_id: int
    grid_code: str
    grid_name: str
    position: int | None
    eta_seconds: int | None
    offered_agent_id: int | None


# --- reading --------------------------------------------------------------------------------------


def queue_status(session: Session, sender_id: str, now: datetime) -> QueueStatus:
    """What the customer's widget shows: who owns the chat, the place in the queue, the wait, the agent."""
    conversation = conversation_or_none(session, sender_id)
    if conversation is None:
        return QueueStatus(Owner.BOT, None, None, None, None, None, None, False)
    owner = Owner(conversation.owner)
    handoff = session.get(Handoff, conversation.handoff_id) if conversation.handoff_id else None
    rating_pending = (
        handoff is not None
        and handoff.status == HandoffStatus.CLOSED
        and session.scalar(select(Rating.id).where(Rating.handoff_id == handoff.id)) is None
    )
    grid = session.get(Grid, conversation.grid_code) if conversation.grid_code else None
    position = eta = None
    agent_name = None
    if owner is Owner.QUEUED and handoff is not None:
        position = queue_position(session, handoff)
        eta = remaining_wait(session, handoff, position, now)
    if owner is Owner.HUMAN and conversation.agent_id is not None:
        agent_name = account_name(session, conversation.agent_id)
    show_handoff = owner is not Owner.BOT or rating_pending
    return QueueStatus(
        owner=owner,
        grid_code=grid.code if grid else None,
        grid_name=grid.name if grid else None,
        position=position,
        eta_seconds=eta,
        agent_name=agent_name,
        handoff_id=handoff.id if handoff is not None and show_handoff else None,
        rating_pending=rating_pending,
    )


def grid_queue(session: Session, grid_codes: Sequence[str] | None, now: datetime) -> list[QueueItem]:
    """The waiting conversations of these grids (None = all), oldest first, with their place in their grid.

    A fixed number of queries however long the queue: the offered agents' names and the previews are
    read for all items at once; so are the questions that led to the handoffs."""
    rows = session.execute(queued_handoffs(grid_codes)).all()
    names = grid_names(session)
    agents = account_names(session, [h.offered_agent_id for h, _ in rows if h.offered_agent_id])
    previews = _previews(session, [conversation.id for _, conversation in rows])
    recent = recent_customer_texts(session, [conversation.id for _, conversation in rows])
    places: dict[str, int] = {}
    items = []
    for handoff, conversation in rows:
        places[handoff.grid_code] = places.get(handoff.grid_code, 0) + 1
        items.append(
            QueueItem(
                handoff_id=handoff.id,
                conversation_id=conversation.id,
                grid_code=handoff.grid_code,
                grid_name=names.get(handoff.grid_code, handoff.grid_code),
                reason=HandoffReason(handoff.reason),
                position=places[handoff.grid_code],
                waited_seconds=max(0, int((now - handoff.queued_at).total_seconds())),
                queued_at=handoff.queued_at,
                offered_agent_id=handoff.offered_agent_id,
                offered_agent_name=agents.get(handoff.offered_agent_id, "") if handoff.offered_agent_id else None,
                profile=customer_profile(conversation, handoff),
                preview=_shorten(previews.get(conversation.id)),
                channel=conversation.channel,
                customer_id=conversation.customer_id,
                question=handoff_question(handoff, recent.get(conversation.id, [])),
            )
        )
    return items


def waiting_statuses(
    session: Session, grid_codes: Sequence[str] | None, listening: Callable[[int], bool], now: datetime | None = None
) -> list[tuple[int, QueueStatus]]:
    """``queue_status`` of every waiting customer of these grids (None = all) whose conversation id
    ``listening`` accepts, as (conversation id, status), in one session: each grid's places and wait
    are read once, not once per customer."""
    query = select(Conversation).where(Conversation.owner == Owner.QUEUED)
    if grid_codes is not None:
        query = query.where(Conversation.grid_code.in_(grid_codes))
    conversations = [conversation for conversation in session.scalars(query) if listening(conversation.id)]
    if not conversations:
        return []
    handoffs = {
        h.id: h
        for h in session.scalars(
            select(Handoff).where(Handoff.id.in_(sorted({c.handoff_id for c in conversations if c.handoff_id})))
        )
    }
    closed = [h.id for h in handoffs.values() if h.status == HandoffStatus.CLOSED]
    rated = set(session.scalars(select(Rating.handoff_id).where(Rating.handoff_id.in_(closed)))) if closed else set()
    names = grid_names(session)
    waits = GridWaits(session)
    statuses = []
    for conversation in conversations:
        handoff = handoffs.get(conversation.handoff_id) if conversation.handoff_id else None
        position = eta = None
        if handoff is not None:
            position = waits.position(handoff)
            eta = waits.remaining(handoff, position, now or utcnow())
        code = conversation.grid_code if conversation.grid_code in names else None
        statuses.append(
            (
                conversation.id,
                QueueStatus(
                    owner=Owner.QUEUED,
                    grid_code=code,
                    grid_name=names[code] if code else None,
                    position=position,
                    eta_seconds=eta,
                    agent_name=None,
                    handoff_id=handoff.id if handoff is not None else None,
                    rating_pending=handoff is not None
                    and handoff.status == HandoffStatus.CLOSED
                    and handoff.id not in rated,
                ),
            )
        )
    return statuses


# --- the customer's side --------------------------------------------------------------------------


def request_handoff(session: Session, sender_id: str, packet: Packet, now: datetime) -> Enqueued:
    """Queue the conversation in the packet's grid (or the routed one when that grid is unknown).

    Idempotent: a conversation already queued or served is left alone and its current state returned.
    """
    conversation = conversation_or_none(session, sender_id)
    if conversation is None:
        raise HandoffNotFound(f"会话 {sender_id} 不存在")
    if conversation.owner in (Owner.QUEUED, Owner.HUMAN):
        return _current_enqueued(session, conversation)
    grid = _grid_for(session, packet, conversation)
    handoff = Handoff(
        conversation_id=conversation.id,
        reason=packet.reason.value,
        grid_code=grid.code,
        status=HandoffStatus.QUEUED.value,
        packet=packet.to_json(),
        skill=packet.skill,
        created_at=now,
        queued_at=now,
    )
    session.add(handoff)
    session.flush()
    last_agent_id = conversation.last_agent_id
    try:
        transition(
            session,
            conversation.id,
            Owner.BOT,
            Owner.QUEUED,
            actor="bot",
            handoff_id=handoff.id,
            grid_code=grid.code,
            note=packet.reason.value,
            now=now,
        )
    except OwnershipError:
        session.delete(handoff)
        session.flush()
        session.refresh(conversation)
        if conversation.owner in (Owner.QUEUED, Owner.HUMAN):  # a concurrent request won
            return _current_enqueued(session, conversation)
        raise
    record_first(session, conversation.sender_id, Milestone.HANDOFF, now)
    handoff.offered_agent_id = pick_agent(agent_loads(session, [grid.code]), handoff.skill, last_agent_id)
    session.flush()
    position = queue_position(session, handoff)
    return Enqueued(
        handoff_id=handoff.id,
        conversation_id=conversation.id,
        grid_code=grid.code,
        grid_name=grid.name,
        position=position,
        eta_seconds=eta_seconds(session, grid.code, position),
        offered_agent_id=handoff.offered_agent_id,
    )


def customer_leaves(session: Session, sender_id: str, now: datetime, *, to_ticket: bool) -> HandoffStatus | None:
    """The customer leaves the queue or the chat: back to the bot. The handoff ends as ``ticket`` when
    they chose to leave a message, else ``abandoned`` (from the queue) or ``returned`` (from an agent).
    None when there is nothing to leave."""
    for _ in range(3):  # the owner may change between our read and our update (an agent accepting)
        conversation = conversation_or_none(session, sender_id)
        if conversation is None or conversation.owner not in (Owner.QUEUED, Owner.HUMAN):
            return None
        current = Owner(conversation.owner)
        handoff_id = conversation.handoff_id
        try:
            transition(
                session,
                conversation.id,
                current,
                Owner.BOT,
                actor="customer",
                handoff_id=handoff_id,
                note="客户留言" if to_ticket else "客户返回智能助手",
                now=now,
            )
        except OwnershipError:
            session.expire_all()
            continue
        if to_ticket:
            status = HandoffStatus.TICKET
        else:
            status = HandoffStatus.ABANDONED if current is Owner.QUEUED else HandoffStatus.RETURNED
        if handoff_id is not None:
            end_handoff(session, handoff_id, status, now)
        return status
    raise AlreadyTaken("会话状态正在变化，请重试。")


def reopen(session: Session, sender_id: str, now: datetime) -> bool:
    """A new customer message in a closed conversation gives it back to the bot; True when it did."""
    conversation = conversation_or_none(session, sender_id)
    if conversation is None or conversation.owner != Owner.CLOSED:
        return False
    try:
        transition(
            session,
            conversation.id,
            Owner.CLOSED,
            Owner.BOT,
            actor="customer",
            handoff_id=conversation.handoff_id,
            note="客户再次发消息",
            now=now,
        )
    except OwnershipError:
        return False  # reopened (or changed) by a concurrent request
    return True


def touch_customer(session: Session, sender_id: str, now: datetime) -> None:
    """The customer's page or client was seen (a message, a poll, a live connection)."""
    session.execute(
        update(Conversation)
        .where(Conversation.sender_id == sender_id)
        .values(customer_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    _expire_by_sender(session, sender_id)


# --- helpers --------------------------------------------------------------------------------------


def _expire_by_sender(session: Session, sender_id: str) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Conversation) and obj.sender_id == sender_id:
            session.expire(obj)


def _grid_for(session: Session, packet: Packet, conversation: Conversation) -> Grid:
    """The packet's grid; an unknown one is re-routed from the verified customer (the record, else the
    packet's profile, which the action server builds from the verified customer only), or the catch-all."""
    grid = session.get(Grid, packet.grid)
    if grid is not None:
        return grid
    profile = dict(packet.profile)
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id is not None else None
    if customer is not None:
        profile.update({k: v for k, v in (("region", customer.region), ("tier", customer.tier)) if v})
    try:
        return route_request(session, profile.get("region"), profile.get("tier"), None)
    except NoGrid:
        return route_request(session, None, None, None)


def _current_enqueued(session: Session, conversation: Conversation) -> Enqueued:
    handoff = session.get_one(Handoff, conversation.handoff_id)
    grid = session.get_one(Grid, handoff.grid_code)
    position = eta = None
    if conversation.owner == Owner.QUEUED:
        position = queue_position(session, handoff)
        eta = eta_seconds(session, grid.code, position)
    return Enqueued(
        handoff_id=handoff.id,
        conversation_id=conversation.id,
        grid_code=grid.code,
        grid_name=grid.name,
        position=position,
        eta_seconds=eta,
        offered_agent_id=handoff.offered_agent_id,
    )


def _previews(session: Session, conversation_ids: Sequence[int]) -> dict[int, str | None]:
    """Each conversation's latest customer message, in one query."""
    if not conversation_ids:
        return {}
    latest = (
        select(Message.conversation_id, func.max(Message.seq).label("seq"))
        .where(Message.conversation_id.in_(sorted(set(conversation_ids))), Message.author == Author.CUSTOMER.value)
        .group_by(Message.conversation_id)
        .subquery()
    )
    return dict(
        session.execute(
            select(Message.conversation_id, Message.text).join(
                latest, and_(Message.conversation_id == latest.c.conversation_id, Message.seq == latest.c.seq)
            )
        ).all()
    )


def _shorten(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
