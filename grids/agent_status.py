"""An agent's availability: the one place that changes ``Agent.status``, each change recorded in
``agent_status_event`` (the reports' online time and utilisation read it: docs/kpis.md).

What the status means (issue 14): an agent is ``online`` once logged in unless they chose otherwise,
``offline`` once their last login ended (logout, expiry, a disabled account), and takes new chats
only while online. Presence is separate: the console marks the agent seen (``Agent.last_seen_at``)
while it is open, and the dispatcher gives chats only to online agents seen within
``PRESENCE_SECONDS`` (a closed browser is not someone to hand a customer to).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from grids.models import Agent, AgentStatus, AgentStatusEvent

# The console marks its agent seen every 30 s (handoff/web/console_ws.py); three beats missed = gone.
PRESENCE_SECONDS = 90


def change_status(session: Session, agent: Agent, status: AgentStatus | str, now: datetime) -> bool:
    """Set the agent's status; a change (not a repeat) is recorded. True when it changed.
    ValueError for an unknown status."""
    value = AgentStatus(status)
    if agent.status == value:
        return False
    session.add(AgentStatusEvent(account_id=agent.account_id, status=value.value, at=now))
    agent.status = value
    session.flush()
    return True


def lock_agent(session: Session, account_id: int) -> Agent | None:
    """The account's agent row, locked until the transaction ends and read afresh (None: not an agent).

    Whatever decides a status from the account's logins takes this lock before counting them (a login starting,
    the queue sweep signing out the absent), so two such decisions never cross: without it, a sweep that counted
    no live login could set offline an agent whose login was committing at that moment. (SQLite has one writer at
    a time anyway and ignores the lock.)"""
    return session.get(Agent, account_id, with_for_update=True, populate_existing=True)


def follow_login(session: Session, account_id: int, logged_in: bool, now: datetime) -> bool:
    """A login of the account started (``logged_in``) or its last one ended: an agent comes online
    with their first login and goes offline with their last. Accounts without an agent row are left
    alone. True when the status changed."""
    agent = lock_agent(session, account_id)
    if agent is None:
        return False
    return change_status(session, agent, AgentStatus.ONLINE if logged_in else AgentStatus.OFFLINE, now)


def is_present(last_seen_at: datetime | None, now: datetime) -> bool:
    """Whether an agent's console was seen recently enough to hand them a customer."""
    return last_seen_at is not None and now - last_seen_at <= timedelta(seconds=PRESENCE_SECONDS)
