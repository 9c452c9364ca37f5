"""The dispatcher: each agent's load, and which agent a waiting customer goes to (no HTTP here; the
assignment itself is ``handoff.assignment.assign_waiting``).

``pick_agent`` is a pure rule (tested on tables); ``agent_loads`` reads every agent of some grids with
their number of chats in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account
from conversations.models import Conversation, Owner
from grids.models import Agent, AgentStatus, GridMembership


@dataclass(frozen=True)
class AgentLoad:
    account_id: int
    name: str
    status: AgentStatus
    active_chats: int
    max_chats: int
    skills: tuple[str, ...]
    grid_codes: tuple[str, ...]
    seen_at: datetime | None = None  # when their console was last seen (grids.agent_status.is_present)


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


# --- reading --------------------------------------------------------------------------------------


def agent_loads(session: Session, grid_codes: Sequence[str] | None) -> list[AgentLoad]:
    """Every active agent of these grids (None = all) with their current number of chats."""
    query = (
        select(Account, Agent)
        .join(Agent, Agent.account_id == Account.id)
        .where(Account.active.is_(True))
        .order_by(Account.id)
    )
    if grid_codes is not None:
        query = query.where(
            Account.id.in_(select(GridMembership.account_id).where(GridMembership.grid_code.in_(list(grid_codes))))
        )
    rows = session.execute(query).all()
    ids = [account.id for account, _ in rows]
    memberships: dict[int, list[str]] = {}
    for account_id, code in session.execute(
        select(GridMembership.account_id, GridMembership.grid_code)
        .where(GridMembership.account_id.in_(ids))
        .order_by(GridMembership.grid_code)
    ):
        memberships.setdefault(account_id, []).append(code)
    active = dict(
        session.execute(
            select(Conversation.agent_id, func.count())
            .where(Conversation.owner == Owner.HUMAN.value, Conversation.agent_id.in_(ids))
            .group_by(Conversation.agent_id)
        ).all()
    )
    return [
        AgentLoad(
            account_id=account.id,
            name=account.display_name,
            status=AgentStatus(agent.status),
            active_chats=active.get(account.id, 0),
            max_chats=agent.max_chats,
            skills=tuple(agent.skills or ()),
            grid_codes=tuple(memberships.get(account.id, ())),
            seen_at=agent.last_seen_at,
        )
        for account, agent in rows
    ]
