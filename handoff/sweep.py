"""The queue sweep: overflow, silent customers, and chat service-level alerts for grid managers.

``sweep(session, now)`` is a function of the database and the clock it is given (tests drive it with
a controllable clock; the gateway runs it every few seconds). Per grid policy (grids/handoff_policy.py):
- a conversation queued longer than ``overflow_after_seconds`` in a grid with an overflow grid moves
  to the overflow grid's queue (its wait there starts again);
- a queued customer whose page has not been seen for ``abandon_after_seconds`` left: back to the bot,
  the handoff ``abandoned``;
- alerts, each (handoff, kind, step) once: ``chat_wait`` when a customer has waited past
  ``first_response_seconds`` without being accepted, ``chat_first_response`` when an accepted chat has
  no answer from the agent ``first_response_seconds`` after it was accepted; step ``breach`` at the
  deadline and ``overdue`` ``overdue_minutes`` after it.
A customer who never had a human answer waits since the escalation (an overflow does not reset it);
one transferred after an answer waits since the transfer.
Agents whose every login has ended without a logout (expired) go offline (``signed_out``); the chats of an
agent who is offline and whose console is gone (``grids.agent_status.is_present``) go back to
their grid's queue (``requeued``: the customer is told, the next agent reads why in the packet notes). Giving
waiting customers to free agents follows each sweep (``handoff.live.assign_free_agents``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import AccountSession
from conversations.models import Conversation, Owner
from griddesk.errors import DomainError
from grids.agent_status import change_status, is_present, lock_agent
from grids.handoff_policy import HandoffPolicy
from grids.models import Agent, AgentStatus, Grid, GridMembership
from handoff.assignment import requeue
from handoff.dispatch import agent_loads, pick_agent
from handoff.lookups import add_packet_note, queued_handoffs
from handoff.models import Handoff, HandoffStatus
from handoff.ownership import OwnershipError, transition
from tickets.models import Alert

MAX_OPEN_ALERTS = 50
CHAT_WAIT = "chat_wait"
CHAT_FIRST_RESPONSE = "chat_first_response"
BREACH = "breach"
OVERDUE = "overdue"
LEFT_NOTE = "接待的客服已下线，会话重新排队。"


@dataclass(frozen=True)
class SweepReport:
    overflowed: list[int]  # handoff ids
    abandoned: list[int]  # handoff ids
    alerts: list[int]  # alert ids
    signed_out: list[str] = field(default_factory=list)  # grids of agents who went offline
    requeued: list[int] = field(default_factory=list)  # handoff ids of chats whose agent left


def sweep(session: Session, now: datetime) -> SweepReport:
    grids = {grid.code: grid for grid in session.scalars(select(Grid))}
    policies = {code: grid.handoff_policy() for code, grid in grids.items()}
    overflowed: list[int] = []
    abandoned: list[int] = []
    for handoff, conversation in _queued(session):
        policy = policies[handoff.grid_code]
        seen = conversation.customer_seen_at or handoff.created_at
        if now - seen > timedelta(seconds=policy.abandon_after_seconds):
            if _abandon(session, handoff, conversation, now):
                abandoned.append(handoff.id)
            continue
        overflow = grids[handoff.grid_code].overflow_code
        waited_too_long = now - handoff.queued_at > timedelta(seconds=policy.overflow_after_seconds)
        if (
            overflow is not None
            and overflow in grids
            and waited_too_long
            and _overflow(session, handoff, conversation, grids[overflow], now)
        ):
            overflowed.append(handoff.id)
    alerts = _wait_alerts(session, grids, policies, now) + _first_response_alerts(session, grids, policies, now)
    signed_out = _sign_out_absent(session, now)
    requeued = _requeue_left_chats(session, now)
    session.flush()
    return SweepReport(overflowed, abandoned, [alert.id for alert in alerts], signed_out, requeued)


def _requeue_left_chats(session: Session, now: datetime) -> list[int]:
    """Chats served by an agent who is offline (logged out, login expired, account disabled) and whose console
    is gone go back to their grid's queue, like a transfer to the grid by the system."""
    rows = session.execute(
        select(Handoff, Conversation, Agent)
        .join(Conversation, Conversation.handoff_id == Handoff.id)
        .join(Agent, Agent.account_id == Conversation.agent_id)
        .where(
            Conversation.owner == Owner.HUMAN,
            Handoff.status == HandoffStatus.ACTIVE,
            Agent.status == AgentStatus.OFFLINE.value,
        )
        .order_by(Handoff.id)
    ).all()
    requeued: list[int] = []
    for handoff, conversation, agent in rows:
        if is_present(agent.last_seen_at, now):
            continue  # a console still open: the agent can finish (or transfer) the chat
        try:
            requeue(session, handoff, conversation, handoff.grid_code, agent.account_id, "system", LEFT_NOTE, now)
        except OwnershipError:  # closed, transferred or taken meanwhile
            continue
        add_packet_note(
            handoff, {"at": now.isoformat(), "by": "系统", "from_grid": handoff.grid_code, "note": LEFT_NOTE}
        )
        requeued.append(handoff.id)
    return requeued


def _sign_out_absent(session: Session, now: datetime) -> list[str]:
    """Agents shown online or away whose logins have all expired go offline; returns their grids."""
    live = select(AccountSession.account_id).where(AccountSession.expires_at > now)
    absent = list(
        session.scalars(select(Agent).where(Agent.status != AgentStatus.OFFLINE.value, Agent.account_id.not_in(live)))
    )
    for agent in list(absent):
        # under the agent's lock, counted again: a login committed since the first look keeps the agent as is
        locked = lock_agent(session, agent.account_id)
        still_absent = locked is not None and locked.status != AgentStatus.OFFLINE.value
        if still_absent and not session.scalar(live.where(AccountSession.account_id == agent.account_id).limit(1)):
            change_status(session, agent, AgentStatus.OFFLINE, now)
        else:
            absent.remove(agent)
    if not absent:
        return []
    return sorted(
        set(
            session.scalars(
                select(GridMembership.grid_code).where(GridMembership.account_id.in_([a.account_id for a in absent]))
            )
        )
    )


def open_alerts(session: Session, grid_codes: list[str] | tuple[str, ...] | None) -> list[Alert]:
    """Unacknowledged alerts of these grids (None = all), newest first, at most 50."""
    query = (
        select(Alert)
        .where(Alert.acknowledged_at.is_(None))
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(MAX_OPEN_ALERTS)
    )
    if grid_codes is not None:
        query = query.where(Alert.grid_code.in_(list(grid_codes)))
    return list(session.scalars(query))


def open_alerts_by_grid(session: Session, grid_codes: list[str] | None) -> dict[str, list[Alert]]:
    """``open_alerts`` of every grid at once (one query): grid code → its newest unacknowledged alerts."""
    ranked = select(
        Alert.id,
        func.row_number()
        .over(partition_by=Alert.grid_code, order_by=(Alert.created_at.desc(), Alert.id.desc()))
        .label("rank"),
    ).where(Alert.acknowledged_at.is_(None))
    if grid_codes is not None:
        ranked = ranked.where(Alert.grid_code.in_(grid_codes))
    inner = ranked.subquery()
    rows = session.scalars(
        select(Alert)
        .join(inner, inner.c.id == Alert.id)
        .where(inner.c.rank <= MAX_OPEN_ALERTS)
        .order_by(Alert.created_at.desc(), Alert.id.desc())
    )
    by_grid: dict[str, list[Alert]] = {}
    for alert in rows:
        by_grid.setdefault(alert.grid_code, []).append(alert)
    return by_grid


class AlertNotFound(DomainError, LookupError):
    code = "not_found"

    def __init__(self, alert_id: int) -> None:
        super().__init__("找不到该提醒（或不属于您的网格）。")
        self.alert_id = alert_id


def acknowledge_alert(
    session: Session, alert_id: int, grid_codes: list[str] | tuple[str, ...] | None, now: datetime
) -> Alert:
    """Mark an alert of one of these grids (None = any) as seen; acknowledging twice keeps the first time."""
    alert = session.get(Alert, alert_id)
    if alert is None or (grid_codes is not None and alert.grid_code not in grid_codes):
        raise AlertNotFound(alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        session.flush()
    return alert


def _queued(session: Session) -> list[tuple[Handoff, Conversation]]:
    return [(handoff, conversation) for handoff, conversation in session.execute(queued_handoffs()).all()]


def _abandon(session: Session, handoff: Handoff, conversation: Conversation, now: datetime) -> bool:
    try:
        transition(
            session,
            conversation.id,
            Owner.QUEUED,
            Owner.BOT,
            actor="system",
            handoff_id=handoff.id,
            note="客户长时间未在线，视为离开队列",
            now=now,
        )
    except OwnershipError:  # accepted or left in the meantime
        return False
    handoff.status = HandoffStatus.ABANDONED
    handoff.ended_at = now
    return True


def _overflow(session: Session, handoff: Handoff, conversation: Conversation, target: Grid, now: datetime) -> bool:
    source = handoff.grid_code
    waited = int((now - handoff.queued_at).total_seconds())
    note = f"排队 {waited} 秒无人接入，溢出到{target.name}"
    try:
        transition(
            session,
            conversation.id,
            Owner.QUEUED,
            Owner.QUEUED,
            actor="system",
            handoff_id=handoff.id,
            grid_code=target.code,
            note=note,
            now=now,
        )
    except OwnershipError:
        return False
    handoff.grid_code = target.code
    handoff.queued_at = now
    handoff.offered_agent_id = pick_agent(
        agent_loads(session, [target.code]), handoff.skill, conversation.last_agent_id
    )
    add_packet_note(
        handoff, {"at": now.isoformat(), "by": "system", "from_grid": source, "to_grid": target.code, "note": note}
    )
    session.flush()
    return True


def _wait_alerts(
    session: Session, grids: dict[str, Grid], policies: dict[str, HandoffPolicy], now: datetime
) -> list[Alert]:
    alerts = []
    for handoff, _ in _queued(session):
        policy = policies[handoff.grid_code]
        started = handoff.created_at if handoff.first_response_at is None else handoff.queued_at
        due = started + timedelta(seconds=policy.first_response_seconds)
        grid = grids[handoff.grid_code]

        def message(step: str, started: datetime = started, grid: Grid = grid, policy: HandoffPolicy = policy) -> str:
            waited = _duration(now - started)
            if step == BREACH:
                return (
                    f"{grid.name}：有客户已排队等待 {waited}，超过首次响应时限"
                    f" {policy.first_response_seconds} 秒，请尽快接入"
                )
            return (
                f"{grid.name}：有客户已排队等待 {waited}，超时 {policy.overdue_minutes} 分钟仍无人接入，请网格经理跟进"
            )

        alerts += _raise_due(session, handoff, CHAT_WAIT, due, policy, now, message)
    return alerts


def _first_response_alerts(
    session: Session, grids: dict[str, Grid], policies: dict[str, HandoffPolicy], now: datetime
) -> list[Alert]:
    alerts = []
    rows = session.scalars(
        select(Handoff)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.status == HandoffStatus.ACTIVE.value,
            Handoff.first_response_at.is_(None),
            Handoff.accepted_at.is_not(None),
            Conversation.owner == Owner.HUMAN.value,
            Conversation.handoff_id == Handoff.id,
        )
        .order_by(Handoff.accepted_at, Handoff.id)
    ).all()
    for handoff in rows:
        policy = policies[handoff.grid_code]
        assert handoff.accepted_at is not None
        due = handoff.accepted_at + timedelta(seconds=policy.first_response_seconds)
        grid = grids[handoff.grid_code]

        def message(
            step: str, accepted: datetime = handoff.accepted_at, grid: Grid = grid, policy: HandoffPolicy = policy
        ) -> str:
            silent = _duration(now - accepted)
            if step == BREACH:
                return (
                    f"{grid.name}：客服接入会话 {silent} 仍未回复客户，超过首次响应时限"
                    f" {policy.first_response_seconds} 秒"
                )
            return (
                f"{grid.name}：客服接入会话 {silent} 仍未回复客户，超时 {policy.overdue_minutes} 分钟，请网格经理跟进"
            )

        alerts += _raise_due(session, handoff, CHAT_FIRST_RESPONSE, due, policy, now, message)
    return alerts


def _raise_due(
    session: Session,
    handoff: Handoff,
    kind: str,
    due: datetime,
    policy: HandoffPolicy,
    now: datetime,
    message: Callable[[str], str],
) -> list[Alert]:
    """Add the alerts of the steps whose time has come and that were not raised before."""
    raised = []
    for step, at in ((BREACH, due), (OVERDUE, due + timedelta(minutes=policy.overdue_minutes))):
        if at > now:
            break
        already = session.scalar(
            select(Alert.id).where(Alert.handoff_id == handoff.id, Alert.kind == kind, Alert.step == step)
        )
        if already is not None:
            continue
        alert = Alert(
            grid_code=handoff.grid_code,
            handoff_id=handoff.id,
            kind=kind,
            step=step,
            message=message(step),
            created_at=now,
        )
        session.add(alert)
        session.flush()
        raised.append(alert)
    return raised


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    if minutes and seconds:
        return f"{minutes} 分 {seconds} 秒"
    return f"{minutes} 分钟" if minutes else f"{seconds} 秒"
