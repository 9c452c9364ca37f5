"""The conversation ownership state machine: the only code that changes ``Conversation.owner``.

``bot → queued(grid) → human(agent) → bot | closed`` (DESIGN.md "Conversation ownership"). Every change
is one conditional ``UPDATE conversation … WHERE id = … AND owner = <the owner we saw>`` (plus the
agent, the current handoff and the new agent's capacity where they matter), in the caller's
transaction together with an append-only ``ownership_event`` row; a change that gives an agent a chat
first locks that agent's row, so capacity is counted one change at a time on PostgreSQL too. Zero rows
updated means someone else changed the conversation first: a domain error, never a second owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from conversations.models import Conversation, Owner
from griddesk.db import rows_changed
from griddesk.errors import DomainError
from grids.models import Agent
from handoff.models import OwnershipEvent

# Every change of owner the state machine allows; anything else is an InvalidTransition.
ALLOWED: frozenset[tuple[Owner, Owner]] = frozenset(
    {
        (Owner.BOT, Owner.QUEUED),  # the bot escalates
        (Owner.QUEUED, Owner.HUMAN),  # an agent accepts
        (Owner.QUEUED, Owner.BOT),  # the customer goes back to the bot, leaves a ticket, or went silent
        (Owner.QUEUED, Owner.QUEUED),  # overflow or transfer to another grid's queue
        (Owner.HUMAN, Owner.BOT),  # hand back (by the agent or the customer)
        (Owner.HUMAN, Owner.CLOSED),  # the agent closes the chat
        (Owner.HUMAN, Owner.QUEUED),  # transfer to a grid
        (Owner.HUMAN, Owner.HUMAN),  # transfer to another agent
        (Owner.CLOSED, Owner.BOT),  # the customer writes again
    }
)


class OwnershipError(DomainError):
    """A refused change of ownership; ``code`` is stable (the edge maps it to HTTP), the message is for people."""

    code = "ownership_error"
    default_message = "会话当前的状态不允许这个操作"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.default_message)


class AlreadyTaken(OwnershipError):
    """Another agent (or another request) got there first."""

    code = "already_taken"
    default_message = "该会话已被其他客服接入"


class InvalidTransition(OwnershipError):
    """The conversation is not in a state that allows this change."""

    code = "invalid_transition"
    default_message = "会话当前的状态不允许这个操作"


class NotAssigned(OwnershipError):
    """The agent does not own this chat."""

    code = "not_assigned"
    default_message = "该会话不由您接待"


class AtCapacity(OwnershipError):
    """The agent already serves as many chats as they may."""

    code = "at_capacity"
    default_message = "您的接待量已满，请先结束或转出一个会话"


class NotInGrid(OwnershipError):
    """The agent does not work in the handoff's grid."""

    code = "not_in_grid"
    default_message = "您不属于该会话所在的网格"


class HandoffNotFound(OwnershipError):
    """No such handoff (or conversation) — or not one the caller may see."""

    code = "not_found"
    default_message = "找不到该会话"


def _expected_set(expected: Owner | Iterable[Owner]) -> frozenset[Owner]:
    if isinstance(expected, Owner):
        return frozenset({expected})
    return frozenset(Owner(e) for e in expected)


def human_chats(agent_id: int) -> ColumnElement[int]:
    """How many conversations ``agent_id`` serves right now (a scalar subquery)."""
    held = Conversation.__table__.alias("held")
    return (
        select(func.count())
        .select_from(held)
        .where(held.c.owner == Owner.HUMAN.value, held.c.agent_id == agent_id)
        .scalar_subquery()
    )


def transition(
    session: Session,
    conversation_id: int,
    expected: Owner | set[Owner],
    to: Owner,
    *,
    actor: str,
    handoff_id: int | None = None,
    grid_code: str | None = None,
    agent_id: int | None = None,
    expected_agent_id: int | None = None,
    max_chats: int | None = None,
    note: str = "",
    now: datetime,
) -> None:
    """Move the conversation from one of ``expected`` to ``to``, atomically, and record the event.

    - ``to`` queued: ``grid_code`` is the queue (default: the current grid); no agent.
    - ``to`` human: ``agent_id`` is required; ``grid_code`` defaults to the current grid.
      ``max_chats``: the agent must serve fewer chats than this (checked in the same UPDATE).
    - ``to`` bot: grid and agent cleared. ``to`` closed: the agent cleared, the grid kept.
    - leaving human remembers the agent in ``last_agent_id``.
    - ``expected_agent_id``: the conversation must be served by that agent (hand back, transfer, close).
    - ``handoff_id``: when the conversation is in a handoff, it must be that one; entering the queue
      from the bot makes it the conversation's current handoff.
    Raises AlreadyTaken (now human with another agent, or queued elsewhere by someone else),
    AtCapacity, or InvalidTransition.
    """
    expected_owners = _expected_set(expected)
    to = Owner(to)
    row = session.execute(
        select(Conversation.owner, Conversation.agent_id, Conversation.grid_code, Conversation.handoff_id).where(
            Conversation.id == conversation_id
        )
    ).one_or_none()
    if row is None:
        raise HandoffNotFound(f"会话 {conversation_id} 不存在")
    current = Owner(row.owner)
    if (
        current not in expected_owners
        or (expected_agent_id is not None and row.agent_id != expected_agent_id)
        or (handoff_id is not None and current is not Owner.BOT and row.handoff_id != handoff_id)
    ):
        raise _refusal(current, row.agent_id, row.handoff_id, to, agent_id, handoff_id)
    if (current, to) not in ALLOWED:
        raise InvalidTransition(f"会话不能从 {current.value} 变为 {to.value}")
    if to is Owner.HUMAN and agent_id is None:
        raise ValueError("a human owner needs an agent_id")

    new_grid: str | None
    new_agent: int | None
    if to is Owner.BOT:
        new_grid, new_agent = None, None
    elif to is Owner.QUEUED:
        new_grid, new_agent = grid_code or row.grid_code, None
        if new_grid is None:
            raise ValueError("a queued conversation needs a grid_code")
    elif to is Owner.HUMAN:
        new_grid, new_agent = grid_code or row.grid_code, agent_id
    else:  # closed
        new_grid, new_agent = row.grid_code, None

    values: dict[str, object] = {"owner": to.value, "grid_code": new_grid, "agent_id": new_agent, "updated_at": now}
    if current is Owner.HUMAN and to is not Owner.HUMAN:
        values["last_agent_id"] = Conversation.agent_id  # the old value: SET sees the row before the update
    if handoff_id is not None and current is Owner.BOT:
        values["handoff_id"] = handoff_id

    conditions: list[ColumnElement[bool]] = [Conversation.id == conversation_id, Conversation.owner == current.value]
    if expected_agent_id is not None:
        conditions.append(Conversation.agent_id == expected_agent_id)
    if handoff_id is not None and current is not Owner.BOT:
        conditions.append(Conversation.handoff_id == handoff_id)
    if max_chats is not None and new_agent is not None:
        _lock_agent(session, new_agent)
        conditions.append(human_chats(new_agent) < max_chats)
    changed = rows_changed(
        session.execute(
            update(Conversation).where(and_(*conditions)).values(values).execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise _lost(session, conversation_id, expected_owners, to, agent_id, expected_agent_id, handoff_id, max_chats)

    _expire_conversation(session, conversation_id)
    session.add(
        OwnershipEvent(
            conversation_id=conversation_id,
            handoff_id=handoff_id,
            from_owner=current.value,
            to_owner=to.value,
            grid_code=new_grid or row.grid_code,
            agent_id=new_agent if new_agent is not None else row.agent_id,
            actor=actor,
            note=note,
            created_at=now,
        )
    )
    session.flush()


def _lock_agent(session: Session, agent_id: int) -> None:
    """Hold the agent's row until commit, so that changes giving this agent a chat count its chats one after the
    other. Under PostgreSQL's READ COMMITTED two accepts of *different* conversations touch no common row: each
    UPDATE would count the agent's chats without the other's uncommitted one and both would pass ``max_chats``.
    (SQLite lets one writer at a time anyway and ignores ``FOR UPDATE``.)"""
    session.execute(select(Agent.account_id).where(Agent.account_id == agent_id).with_for_update())


def _refusal(
    current: Owner,
    current_agent: int | None,
    current_handoff: int | None,
    to: Owner,
    agent_id: int | None,
    handoff_id: int | None,
) -> OwnershipError:
    """The error for a conversation found in a state the caller did not expect."""
    if current is Owner.HUMAN and current_agent is not None and current_agent != agent_id:
        return AlreadyTaken("该会话已被其他客服接入")
    if handoff_id is not None and current_handoff != handoff_id and current is not Owner.BOT:
        return InvalidTransition("该转人工请求已结束")
    if current is Owner.QUEUED and to is Owner.QUEUED:
        return AlreadyTaken("该会话已在排队")
    return InvalidTransition(f"会话当前状态为 {current.value}，不能变为 {to.value}。")


def _lost(
    session: Session,
    conversation_id: int,
    expected: frozenset[Owner],
    to: Owner,
    agent_id: int | None,
    expected_agent_id: int | None,
    handoff_id: int | None,
    max_chats: int | None,
) -> OwnershipError:
    """Why the conditional UPDATE changed nothing (read again inside the write transaction)."""
    row = session.execute(
        select(Conversation.owner, Conversation.agent_id, Conversation.handoff_id).where(
            Conversation.id == conversation_id
        )
    ).one()
    current = Owner(row.owner)
    still_expected = (
        current in expected
        and (expected_agent_id is None or row.agent_id == expected_agent_id)
        and (handoff_id is None or current is Owner.BOT or row.handoff_id == handoff_id)
    )
    if still_expected and max_chats is not None and agent_id is not None:
        return AtCapacity("已达到同时接待的会话上限")
    return _refusal(current, row.agent_id, row.handoff_id, to, agent_id, handoff_id)


def _expire_conversation(session: Session, conversation_id: int) -> None:
    """Loaded copies of the conversation are stale after a Core UPDATE: reload them on next access."""
    loaded = session.identity_map.get(identity_key(Conversation, conversation_id))
    if loaded is not None:
        session.expire(loaded)
