"""The KPI computation (docs/kpis.md): a handful of SQL aggregates per KPI family, pushed to the database.

Each family function returns ``{group key: {kpi name: value}}`` for one dimension (``None``: the whole window,
under the key ``""``), or ``{}`` when the family has no such dimension. Percentiles are nearest-rank, from
``ROW_NUMBER()`` and ``COUNT()`` windows, so SQLite and PostgreSQL give the same figures. Python only divides
and rounds the few aggregate rows the database returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import CTE, Subquery

from conversations.models import Conversation
from griddesk.db import UtcDateTime
from grids.models import Agent, AgentStatus, AgentStatusEvent, Grid, GridMembership
from grids.routing import GridScope, NoGrid, route
from grids.sla import SERVICE_TZ
from handoff.models import Handoff, HandoffReason, HandoffStatus, OwnershipEvent, Rating
from knowledge_base.models import FaqUsage, Miss, UsageKind
from reports.sql import BUCKETS, epoch_seconds, local_bucket
from tickets.models import Category, Ticket, TicketEvent, TicketState

NONE = "none"  # the group of rows without a value of the dimension
TOTAL = ""  # the key of the whole window
REPEAT_SECONDS = 7 * 24 * 3600  # first-contact resolution: no reopen or repeat contact within 7 days
STEPS = (TicketState.ACCEPTED, TicketState.ANALYSING, TicketState.IN_PROGRESS)
API_CHANNEL = "api"  # the channel of a ticket opened with no conversation
Groups = dict[str, dict[str, Any]]
Query = Select[*tuple[Any, ...]]  # a SELECT of any columns


@dataclass(frozen=True)
class Window:
    """What a report covers: grids (None = all), ``[start, end)`` in UTC, the clock, and the local days."""

    grids: tuple[str, ...] | None
    start: datetime
    end: datetime
    now: datetime
    first_day: date
    last_day: date

    def covers(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    def in_grids(self, column: Any) -> ColumnElement[bool]:
        return literal(True) if self.grids is None else column.in_(self.grids)

    @property
    def end_or_now(self) -> datetime:
        return min(self.end, self.now)


def window_of(first_day: date, last_day: date, grids: Sequence[str] | None, now: datetime) -> Window:
    """The window of the local calendar days ``first_day``–``last_day`` (both included), in UTC."""
    start = datetime.combine(first_day, time(0), SERVICE_TZ).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), SERVICE_TZ).astimezone(UTC)
    return Window(None if grids is None else tuple(grids), start, end, now, first_day, last_day)


# --- helpers -----------------------------------------------------------------------------------------------


def _ts(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UtcDateTime())


def ratio(numerator: float | None, denominator: float | None, digits: int = 4) -> float | None:
    if not denominator or numerator is None:
        return None
    return round(float(numerator) / float(denominator), digits)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _key(value: object) -> str:
    if value == TOTAL:
        return TOTAL
    return NONE if value is None else str(value)


def _group(dimension: str | None, columns: dict[str, Any]) -> ColumnElement[str] | None:
    """The group expression of ``dimension`` (None: one group), or None when the family lacks it."""
    if dimension is None:
        return literal(TOTAL)
    column = columns.get(dimension)
    if column is None:
        return None
    if dimension in BUCKETS:
        return local_bucket(column, dimension)
    return cast(column, String)


def _by_group(session: Session, statement: Query, labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {_key(row[0]): dict(zip(labels, row[1:], strict=True)) for row in session.execute(statement)}


def nearest_rank(
    session: Session,
    source: Subquery,
    columns: Sequence[str],
    points: Sequence[int],
    extra: Callable[[Subquery], dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """``{group: {"<column>_p<point>": value}}``: nearest-rank percentiles of each column of ``source`` (which
    has a ``g`` column) per group, NULLs left out, in one window query: the p-th percentile of n values is the
    smallest value whose rank r (1-based, ascending) has ``100·r ≥ p·n``. ``extra(ranked)`` adds aggregates
    (labelled by its keys) over the same rows, so the source is read once."""
    ranked_columns: list[Any] = [
        source.c.g,
        *[column for column in source.c if column.name != "g" and column.name not in columns],
    ]
    for name in columns:
        value = source.c[name]
        ranked_columns.append(value.label(name))
        nulls_last = case((value.is_(None), 1), else_=0)  # SQLite sorts NULLs first, PostgreSQL last
        ranked_columns.append(
            func.row_number().over(partition_by=source.c.g, order_by=(nulls_last, value)).label(f"{name}_rn")
        )
        ranked_columns.append(func.count(value).over(partition_by=source.c.g).label(f"{name}_n"))
    ranked = select(*ranked_columns).subquery()
    picks: list[Any] = []
    labels: list[str] = []
    for name in columns:
        value, rank, n = ranked.c[name], ranked.c[f"{name}_rn"], ranked.c[f"{name}_n"]
        for point in points:
            picks.append(func.min(case((and_(value.is_not(None), rank * 100 >= n * point), value))))
            labels.append(f"{name}_p{point}")
    for label, aggregate in (extra(ranked) if extra else {}).items():
        picks.append(aggregate)
        labels.append(label)
    return _by_group(session, select(ranked.c.g, *picks).group_by(ranked.c.g), labels)


def _merge(*parts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        for key, values in part.items():
            merged.setdefault(key, {}).update(values)
    return merged


def _seconds(later: Any, earlier: Any) -> ColumnElement[float]:
    return epoch_seconds(later) - epoch_seconds(earlier)


# --- conversations -----------------------------------------------------------------------------------------


def _profile(name: str) -> ColumnElement[str]:
    return func.coalesce(Conversation.profile[name].as_string(), "")


def home_grids(session: Session, window: Window) -> CTE | None:
    """``home(region, tier, grid)``: the home grid of every (verified region, tier) pair among the window's
    conversations, routed once per pair in Python (a handful of pairs, not one per conversation)."""
    region, tier = _profile("region"), _profile("tier")
    pairs = session.execute(select(region, tier).where(window.covers(Conversation.created_at)).distinct()).all()
    grids = session.scalars(select(Grid)).all()
    scopes = [GridScope(g.code, tuple(g.regions), tuple(g.tiers), tuple(g.categories)) for g in grids]
    rows: list[tuple[str, str, str]] = []
    for pair_region, pair_tier in pairs:
        try:
            rows.append((pair_region, pair_tier, route(scopes, pair_region or None, pair_tier or None, None)))
        except NoGrid:
            continue  # no catch-all grid: such conversations belong to no grid
    if not rows:
        return None
    selects = [
        select(literal(r, String).label("region"), literal(t, String).label("tier"), literal(g, String).label("grid"))
        for r, t, g in rows
    ]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).cte("home")


def conversation_kpis(session: Session, window: Window, dimension: str | None) -> Groups:
    # every grid and no grid column wanted: every conversation counts, no routing needed
    home = home_grids(session, window) if window.grids is not None or dimension == "grid" else None
    if home is None and (window.grids is not None or dimension == "grid"):
        return {}
    group = _group(
        dimension,
        {
            "day": Conversation.created_at,
            "week": Conversation.created_at,
            "month": Conversation.created_at,
            "grid": home.c.grid if home is not None else None,
            "channel": Conversation.channel,
        },
    )
    if group is None:
        return {}
    end = window.end
    handed = exists().where(Handoff.conversation_id == Conversation.id, Handoff.created_at < end)
    unhelpful = exists().where(
        Miss.sender_id == Conversation.sender_id, Miss.kind == "unhelpful", Miss.created_at < end
    )
    ticketed = exists().where(Ticket.sender_id == Conversation.sender_id, Ticket.created_at < end)
    statement = select(
        group.label("g"),
        func.count(),
        func.sum(case((~handed & ~unhelpful & ~ticketed, 1), else_=0)),
        func.sum(case((handed, 1), else_=0)),
    ).select_from(Conversation)
    if home is not None:
        statement = statement.join(home, and_(home.c.region == _profile("region"), home.c.tier == _profile("tier")))
        statement = statement.where(window.in_grids(home.c.grid))
    statement = statement.where(window.covers(Conversation.created_at)).group_by(group)
    out: Groups = {}
    for key, values in _by_group(session, statement, ("n", "bot", "handed")).items():
        n = values["n"]
        out[key] = {
            "conversations": n,
            "bot_resolved": values["bot"] or 0,
            "bot_resolved_rate": ratio(values["bot"], n),
            "handoff_rate": ratio(values["handed"], n),
        }
    return out


# --- handoffs and ratings ----------------------------------------------------------------------------------


def _first_acceptance() -> ColumnElement[datetime]:
    return (
        select(func.min(OwnershipEvent.created_at))
        .where(OwnershipEvent.handoff_id == Handoff.id, OwnershipEvent.to_owner == "human")
        .scalar_subquery()
    )


def _handoff_columns(timestamp: Any) -> dict[str, Any]:
    return {
        "day": timestamp,
        "week": timestamp,
        "month": timestamp,
        "grid": Handoff.grid_code,
        "agent": Handoff.agent_id,
        "category": Handoff.skill,
        "channel": Conversation.channel,
    }


def handoff_kpis(session: Session, window: Window, dimension: str | None) -> Groups:
    group = _group(dimension, _handoff_columns(Handoff.created_at))
    if group is None:
        return {}
    accepted = _first_acceptance()
    ended_after_acceptance = and_(
        Handoff.status.in_((HandoffStatus.CLOSED.value, HandoffStatus.RETURNED.value)), Handoff.ended_at.is_not(None)
    )
    accepted_seconds = epoch_seconds(accepted)
    rows = select(
        group.label("g"),
        Handoff.reason.label("reason"),
        Handoff.status.label("status"),
        (accepted_seconds - epoch_seconds(Handoff.created_at)).label("queue_wait"),
        _seconds(Handoff.first_response_at, Handoff.created_at).label("first_response"),
        case((ended_after_acceptance, epoch_seconds(Handoff.ended_at) - accepted_seconds)).label("handle"),
    ).select_from(Handoff)
    if dimension == "channel":
        rows = rows.join(Conversation, Conversation.id == Handoff.conversation_id)
    source = rows.where(window.covers(Handoff.created_at), window.in_grids(Handoff.grid_code)).subquery()
    reasons = [reason.value for reason in HandoffReason]

    def counts(ranked: Subquery) -> dict[str, Any]:
        return {
            "n": func.count(),
            "abandoned": func.sum(case((ranked.c.status == HandoffStatus.ABANDONED.value, 1), else_=0)),
            "handle_avg": func.avg(ranked.c.handle),
        } | {reason: func.sum(case((ranked.c.reason == reason, 1), else_=0)) for reason in reasons}

    points = nearest_rank(session, source, ("queue_wait", "first_response", "handle"), (50, 90), counts)
    out: Groups = {}
    for key, values in points.items():
        p = values
        out[key] = {
            "handoffs": values["n"],
            "handoffs_by_reason": {reason: values[reason] or 0 for reason in reasons},
            "queue_wait_p50_seconds": _round(p.get("queue_wait_p50")),
            "queue_wait_p90_seconds": _round(p.get("queue_wait_p90")),
            "abandoned": values["abandoned"] or 0,
            "abandonment_rate": ratio(values["abandoned"], values["n"]),
            "first_response_p50_seconds": _round(p.get("first_response_p50")),
            "first_response_p90_seconds": _round(p.get("first_response_p90")),
            "handle_time_avg_seconds": _round(values["handle_avg"]),
            "handle_time_p50_seconds": _round(p.get("handle_p50")),
        }
    return out


def rating_kpis(session: Session, window: Window, dimension: str | None) -> Groups:
    group = _group(dimension, _handoff_columns(Rating.created_at))
    if group is None:
        return {}
    statement = (
        select(group, func.count(), func.avg(Rating.score), func.sum(case((Rating.score >= 4, 1), else_=0)))
        .select_from(Rating)
        .join(Handoff, Handoff.id == Rating.handoff_id)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(window.covers(Rating.created_at), window.in_grids(Handoff.grid_code))
        .group_by(group)
    )
    return {
        key: {
            "csat_count": values["n"],
            "csat_avg": _round(values["avg"], 2),
            "csat_satisfied_share": ratio(values["satisfied"], values["n"]),
        }
        for key, values in _by_group(session, statement, ("n", "avg", "satisfied")).items()
    }


# --- tickets -----------------------------------------------------------------------------------------------


def _ticket_columns(timestamp: Any) -> dict[str, Any]:
    return {
        "day": timestamp,
        "week": timestamp,
        "month": timestamp,
        "grid": Ticket.grid_code,
        "category": Ticket.category,
        "channel": func.coalesce(Conversation.channel, API_CHANNEL),
    }


def _with_channel(statement: Query, dimension: str | None) -> Query:
    """Tickets reach their channel through their conversation: joined only when grouping by channel."""
    if dimension != "channel":
        return statement
    return statement.outerjoin(Conversation, Conversation.sender_id == Ticket.sender_id)


def _transition(event: Any, from_state: str | None = None, to_state: str | None = None) -> ColumnElement[bool]:
    conditions = [event.kind == "transition"]
    if from_state is not None:
        conditions.append(event.from_state == from_state)
    if to_state is not None:
        conditions.append(event.to_state == to_state)
    return and_(*conditions)


def ticket_kpis(session: Session, window: Window, dimension: str | None) -> Groups:
    return _merge(
        _opened(session, window, dimension),
        _moved(session, window, dimension),
        _steps(session, window, dimension),
        _first_resolutions(session, window, dimension),
    )


def _opened(session: Session, window: Window, dimension: str | None) -> Groups:
    """Tickets opened in the window: how many, how many went overdue, how fast they were answered."""
    group = _group(dimension, _ticket_columns(Ticket.created_at))
    if group is None:
        return {}
    event = aliased(TicketEvent)
    overdue = exists().where(event.ticket_id == Ticket.id, event.kind == "overdue")
    responded = (
        select(func.min(TicketEvent.at))
        .where(TicketEvent.ticket_id == Ticket.id, _transition(TicketEvent, TicketState.ACCEPTED.value))
        .scalar_subquery()
    )
    rows = (
        _with_channel(
            select(
                group.label("g"),
                case((overdue, 1), else_=0).label("overdue"),
                _seconds(responded, Ticket.created_at).label("response"),
            ).select_from(Ticket),
            dimension,
        )
        .where(window.covers(Ticket.created_at), window.in_grids(Ticket.grid_code))
        .subquery()
    )
    points = nearest_rank(
        session,
        rows,
        ("response",),
        (50, 90),
        lambda ranked: {"n": func.count(), "overdue": func.sum(ranked.c.overdue)},
    )
    return {
        key: {
            "tickets_opened": values["n"],
            "tickets_overdue": values["overdue"] or 0,
            "overdue_rate": ratio(values["overdue"], values["n"]),
            "ticket_response_p50_seconds": _round(values["response_p50"]),
            "ticket_response_p90_seconds": _round(values["response_p90"]),
        }
        for key, values in points.items()
    }


def _moved(session: Session, window: Window, dimension: str | None) -> Groups:
    """Resolutions (and how many on time), closings and reopenings in the window."""
    group = _group(dimension, _ticket_columns(TicketEvent.at))
    if group is None:
        return {}
    resolved = _transition(TicketEvent, to_state=TicketState.RESOLVED.value)
    statement = (
        _with_channel(
            select(
                group,
                func.sum(case((resolved, 1), else_=0)),
                func.sum(case((and_(resolved, TicketEvent.at <= Ticket.resolve_due_at), 1), else_=0)),
                func.sum(case((_transition(TicketEvent, to_state=TicketState.CLOSED.value), 1), else_=0)),
                func.sum(
                    case(
                        (_transition(TicketEvent, TicketState.RESOLVED.value, TicketState.IN_PROGRESS.value), 1),
                        else_=0,
                    )
                ),
            )
            .select_from(TicketEvent)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id),
            dimension,
        )
        .where(window.covers(TicketEvent.at), TicketEvent.kind == "transition", window.in_grids(Ticket.grid_code))
        .group_by(group)
    )
    return {
        key: {
            "tickets_resolved": values["resolved"] or 0,
            "tickets_closed": values["closed"] or 0,
            "tickets_reopened": values["reopened"] or 0,
            "resolved_on_time_rate": ratio(values["on_time"], values["resolved"]),
        }
        for key, values in _by_group(session, statement, ("resolved", "on_time", "closed", "reopened")).items()
    }


def _steps(session: Session, window: Window, dimension: str | None) -> Groups:
    """SLA compliance: step visits that ended in the window, and those with no overdue event inside them."""
    group = _group(dimension, _ticket_columns(TicketEvent.at))
    if group is None:
        return {}
    entry_event = aliased(TicketEvent)
    entered = case(
        (TicketEvent.from_state == TicketState.ACCEPTED.value, Ticket.created_at),
        else_=select(func.max(entry_event.at))
        .where(
            entry_event.ticket_id == TicketEvent.ticket_id,
            entry_event.kind == "transition",
            entry_event.to_state == TicketEvent.from_state,
            entry_event.at <= TicketEvent.at,
            entry_event.id < TicketEvent.id,
        )
        .correlate(TicketEvent)  # nested in the EXISTS below: name the outer event explicitly
        .scalar_subquery(),
    )
    late_event = aliased(TicketEvent)
    late = exists().where(
        late_event.ticket_id == TicketEvent.ticket_id,
        late_event.kind == "overdue",
        late_event.from_state == TicketEvent.from_state,
        late_event.at >= entered,
        late_event.at <= TicketEvent.at,
    )
    sums: list[Any] = []
    labels: list[str] = []
    for step in STEPS:
        of_step = TicketEvent.from_state == step.value
        sums += [func.sum(case((of_step, 1), else_=0)), func.sum(case((and_(of_step, ~late), 1), else_=0))]
        labels += [f"{step.value}_n", f"{step.value}_ok"]
    statement = (
        _with_channel(
            select(group, *sums).select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id), dimension
        )
        .where(
            window.covers(TicketEvent.at),
            TicketEvent.kind == "transition",
            TicketEvent.from_state.in_([step.value for step in STEPS]),
            window.in_grids(Ticket.grid_code),
        )
        .group_by(group)
    )
    out: Groups = {}
    for key, values in _by_group(session, statement, labels).items():
        n = sum(values[f"{step.value}_n"] or 0 for step in STEPS)
        ok = sum(values[f"{step.value}_ok"] or 0 for step in STEPS)
        out[key] = {"sla_compliance_rate": ratio(ok, n)} | {
            f"sla_compliance_rate_{step.value}": ratio(values[f"{step.value}_ok"], values[f"{step.value}_n"])
            for step in STEPS
        }
    return out


def _first_resolutions(session: Session, window: Window, dimension: str | None) -> Groups:
    """First-contact and complaint one-time resolution: first resolutions in the window with no reopen and no
    new ticket from the same contact phone within 7 days."""
    group = _group(dimension, _ticket_columns(TicketEvent.at))
    if group is None:
        return {}
    earlier, reopen = aliased(TicketEvent), aliased(TicketEvent)
    repeat = aliased(Ticket)
    resolved_at = epoch_seconds(TicketEvent.at)
    first = ~exists().where(
        earlier.ticket_id == TicketEvent.ticket_id,
        _transition(earlier, to_state=TicketState.RESOLVED.value),
        earlier.id < TicketEvent.id,
    )
    reopened = exists().where(
        reopen.ticket_id == TicketEvent.ticket_id,
        _transition(reopen, TicketState.RESOLVED.value, TicketState.IN_PROGRESS.value),
        reopen.id > TicketEvent.id,
        epoch_seconds(reopen.at) <= resolved_at + REPEAT_SECONDS,
    )
    repeated = exists().where(
        repeat.contact_phone_hash == Ticket.contact_phone_hash,
        repeat.id != Ticket.id,
        repeat.created_at > TicketEvent.at,
        epoch_seconds(repeat.created_at) <= resolved_at + REPEAT_SECONDS,
    )
    once = and_(~reopened, ~repeated)
    complaint = Ticket.category == Category.COMPLAINT.value
    statement = (
        _with_channel(
            select(
                group,
                func.count(),
                func.sum(case((once, 1), else_=0)),
                func.sum(case((complaint, 1), else_=0)),
                func.sum(case((and_(complaint, once), 1), else_=0)),
            )
            .select_from(TicketEvent)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id),
            dimension,
        )
        .where(
            window.covers(TicketEvent.at),
            _transition(TicketEvent, to_state=TicketState.RESOLVED.value),
            first,
            window.in_grids(Ticket.grid_code),
        )
        .group_by(group)
    )
    return {
        key: {
            "first_contact_resolution_rate": ratio(values["once"], values["n"]),
            "complaint_one_time_resolution_rate": ratio(values["complaint_once"], values["complaints"]),
        }
        for key, values in _by_group(session, statement, ("n", "once", "complaints", "complaint_once")).items()
    }


# --- agents --------------------------------------------------------------------------------------------------


def _clipped(start: Any, end: Any, window: Window) -> ColumnElement[float]:
    """Seconds of ``[start, end)`` (epoch seconds) inside the window (0 when outside)."""
    low, high = window.start.timestamp(), window.end_or_now.timestamp()
    start_in = case((start > low, start), else_=low)
    end_in = case((end < high, end), else_=high)
    return case((end_in > start_in, end_in - start_in), else_=0.0)


def agent_kpis(session: Session, window: Window, dimension: str | None) -> Groups:
    """Online time (status events), chat time (accepted handoffs) and utilisation of the scope's agents."""
    if dimension not in (None, "agent"):
        return {}
    members = select(GridMembership.account_id)
    if window.grids is not None:
        members = members.where(GridMembership.grid_code.in_(window.grids))
    horizon = window.end_or_now.timestamp()
    following = func.lead(epoch_seconds(AgentStatusEvent.at)).over(
        partition_by=AgentStatusEvent.account_id, order_by=(AgentStatusEvent.at, AgentStatusEvent.id)
    )
    intervals = (
        select(
            AgentStatusEvent.account_id.label("agent"),
            AgentStatusEvent.status.label("status"),
            epoch_seconds(AgentStatusEvent.at).label("since"),
            func.coalesce(following, horizon).label("until"),
        )
        .where(AgentStatusEvent.at < window.end, AgentStatusEvent.account_id.in_(members))
        .subquery()
    )
    online = select(
        intervals.c.agent, func.sum(_clipped(intervals.c.since, intervals.c.until, window)).label("seconds")
    ).where(intervals.c.status.in_((AgentStatus.ONLINE.value, AgentStatus.AWAY.value)))
    online_by_agent = {
        row.agent: float(row.seconds or 0) for row in session.execute(online.group_by(intervals.c.agent))
    }
    accepted = epoch_seconds(_first_acceptance())
    ended = func.coalesce(epoch_seconds(Handoff.ended_at), horizon)
    chats = (
        select(Handoff.agent_id, func.sum(_clipped(accepted, ended, window)))
        .where(
            Handoff.agent_id.in_(members),
            Handoff.created_at < window.end,
            func.coalesce(Handoff.ended_at, _ts(window.end)) > window.start,
        )
        .group_by(Handoff.agent_id)
    )
    chat_by_agent = {agent: float(seconds or 0) for agent, seconds in session.execute(chats)}
    capacity = dict(
        session.execute(select(Agent.account_id, Agent.max_chats).where(Agent.account_id.in_(members))).all()
    )

    def figures(agents: list[int]) -> dict[str, Any]:
        online_seconds = sum(online_by_agent.get(a, 0.0) for a in agents)
        chat_seconds = sum(chat_by_agent.get(a, 0.0) for a in agents)
        slots = sum(online_by_agent.get(a, 0.0) * capacity.get(a, 1) for a in agents)
        return {
            "agent_online_seconds": _round(online_seconds),
            "agent_chat_seconds": _round(chat_seconds),
            "agent_utilisation": ratio(chat_seconds, slots),
        }

    agents = sorted(capacity)
    if dimension is None:
        return {TOTAL: figures(agents)}
    return {str(agent): figures([agent]) for agent in agents if agent in online_by_agent or agent in chat_by_agent}


# --- knowledge base ----------------------------------------------------------------------------------------


def kb_kpis(session: Session, window: Window, dimension: str | None) -> Groups:
    """The knowledge base's searches, answers, deflection and 没帮助 rate (global: no grid, agent or channel)."""
    if dimension not in (None, *BUCKETS):
        return {}
    usage_group = literal(TOTAL) if dimension is None else local_bucket(FaqUsage.day, dimension, shift=False)
    kinds = [UsageKind.ANSWERED, UsageKind.CHOSEN, UsageKind.UNHELPFUL]
    usage = (
        select(usage_group, *[func.sum(case((FaqUsage.kind == kind.value, FaqUsage.count), else_=0)) for kind in kinds])
        .where(FaqUsage.day >= window.first_day, FaqUsage.day <= window.last_day)
        .group_by(usage_group)
    )
    miss_group = _group(dimension, dict.fromkeys(BUCKETS, Miss.created_at))
    assert miss_group is not None
    misses = (
        select(miss_group, func.count())
        .where(window.covers(Miss.created_at), Miss.kind.in_(("miss", "low_confidence")))
        .group_by(miss_group)
    )
    used = _by_group(session, usage, [kind.value for kind in kinds])
    missed = _by_group(session, misses, ["misses"])
    out: Groups = {}
    for key in sorted(set(used) | set(missed)):
        answered = used.get(key, {}).get("answered") or 0
        answers = answered + (used.get(key, {}).get("chosen") or 0)
        unhelpful = used.get(key, {}).get("unhelpful") or 0
        searches = answered + (missed.get(key, {}).get("misses") or 0)
        out[key] = {
            "kb_searches": searches,
            "kb_answers": answers,
            "kb_deflection_rate": ratio(answers - unhelpful, searches),
            "kb_unhelpful_rate": ratio(unhelpful, answers),
        }
    return out


FAMILY_FUNCTIONS: dict[str, Callable[[Session, Window, str | None], Groups]] = {
    "conversations": conversation_kpis,
    "handoffs": handoff_kpis,
    "ratings": rating_kpis,
    "tickets": ticket_kpis,
    "agents": agent_kpis,
    "kb": kb_kpis,
}


def compute(session: Session, window: Window, dimension: str | None = None) -> Groups:
    """Every family's KPIs for the window, by ``dimension`` (None: the whole window under ``""``)."""
    return _merge(*(function(session, window, dimension) for function in FAMILY_FUNCTIONS.values()))
