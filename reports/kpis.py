"""The KPI computation (docs/kpis.md): one SQL read per KPI family, pushed to the database.

Each family function returns ``(totals, groups)`` for a window and a dimension: the KPIs of the whole window
and, when the family has the dimension, ``{group key: {kpi name: value}}`` from the same read
(``reports.tally``). A family without the dimension returns its totals and no groups. The rows read carry
the facts the definitions need (a conversation's first handoff, a handoff's first acceptance, a ticket's
first response and resolution, each finished step of the service flow: ``reports.facts``), so no query
looks anything up per row. Python only adds, divides and rounds the few aggregate rows the database returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from conversations.models import Conversation
from griddesk.db import UtcDateTime
from grids.models import Agent, AgentStatus, AgentStatusEvent, Grid, GridMembership
from grids.routing import GridScope, NoGrid, route
from grids.sla import SERVICE_TZ
from handoff.models import Handoff, HandoffReason, HandoffStatus, Rating
from knowledge_base.models import FaqUsage, Miss, UsageKind
from reports.sql import BUCKETS, epoch_seconds, local_bucket
from reports.tally import NONE, TOTAL, Figures, Groups, group_key, tally
from tickets.models import Category, Ticket, TicketState, TicketStep

__all__ = ["NONE", "TOTAL", "Window", "compute", "compute_all", "window_of"]

REPEAT_SECONDS = 7 * 24 * 3600  # first-contact resolution: no reopen or repeat contact within 7 days
STEPS = (TicketState.ACCEPTED, TicketState.ANALYSING, TicketState.IN_PROGRESS)
API_CHANNEL = "api"  # the channel of a ticket opened with no conversation
Query = Select[*tuple[Any, ...]]  # a SELECT of any columns
Family = Callable[[Session, "Window", str | None], tuple[Figures, Groups]]


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


def _mean(total: float | None, n: float | None, digits: int = 1) -> float | None:
    return _round(None if not n or total is None else float(total) / float(n), digits)


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


def _grouping(dimension: str | None, columns: dict[str, Any]) -> tuple[ColumnElement[str], bool]:
    """``(g, grouped)``: the dimension's expression, or the one whole-window group when the family lacks it."""
    group = _group(dimension, columns)
    if group is None or dimension is None:
        return literal(TOTAL), False
    return group, True


def _family(
    session: Session, source: Any, sums: Any, grouped: bool, percentiles: Sequence[str] = ()
) -> tuple[Figures, Groups]:
    return tally(session, source.subquery(), sums, grouped=grouped, percentiles=percentiles)


def _each(totals: Figures, groups: Groups, figures: Callable[[Figures], Figures]) -> tuple[Figures, Groups]:
    return figures(totals), {key: figures(values) for key, values in groups.items()}


def _one(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _before(column: Any, moment: datetime) -> ColumnElement[bool]:
    return and_(column.is_not(None), column < moment)


def _seconds(later: Any, earlier: Any) -> ColumnElement[float]:
    return epoch_seconds(later) - epoch_seconds(earlier)


# --- conversations -----------------------------------------------------------------------------------------


def _profile(name: str) -> ColumnElement[str]:
    return func.coalesce(Conversation.profile[name].as_string(), "")


def home_grid_of(session: Session) -> Callable[[str, str], str | None]:
    """The home grid of a (verified region, tier) pair ("" when unknown): what routing gives it with no service
    category, None when no grid takes it (no catch-all grid). Routed once per pair."""
    grids = session.scalars(select(Grid)).all()
    scopes = [GridScope(g.code, tuple(g.regions), tuple(g.tiers), tuple(g.categories)) for g in grids]
    cache: dict[tuple[str, str], str | None] = {}

    def home(region: str, tier: str) -> str | None:
        if (region, tier) not in cache:
            try:
                cache[region, tier] = route(scopes, region or None, tier or None, None)
            except NoGrid:
                cache[region, tier] = None
        return cache[region, tier]

    return home


def conversation_kpis(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    """Summed per (region, tier, group) in SQL; Python gives each pair its home grid (a handful of pairs), keeps
    the pairs of the scope and adds them up. Every grid and no grid column wanted: no routing at all."""
    routed = window.grids is not None or dimension == "grid"
    group, grouped = _grouping(
        dimension,
        {
            "day": Conversation.created_at,
            "week": Conversation.created_at,
            "month": Conversation.created_at,
            "channel": Conversation.channel,
        },
    )
    grouped = grouped or dimension == "grid"
    end = window.end
    handed = _before(Conversation.first_handoff_at, end)
    failed = or_(handed, _before(Conversation.first_unhelpful_at, end), _before(Conversation.first_ticket_at, end))
    pair = [_profile("region"), _profile("tier")] if routed else [literal(""), literal("")]
    statement = (
        select(*pair, group, func.count(), func.sum(_one(~failed)), func.sum(_one(handed)))
        .where(window.covers(Conversation.created_at))
        .group_by(*pair, group)
    )
    home = home_grid_of(session) if routed else None
    totals: Figures = {"n": 0, "bot": 0, "handed": 0}
    groups: Groups = {}
    for row in session.execute(statement):
        region, tier, key, n, bot, handed_n = tuple(row)
        if home is not None:
            grid = home(region, tier)
            if grid is None or (window.grids is not None and grid not in window.grids):
                continue
            if dimension == "grid":
                key = grid
        for counts in (totals, groups.setdefault(group_key(key), {"n": 0, "bot": 0, "handed": 0})):
            counts["n"] += n
            counts["bot"] += bot or 0
            counts["handed"] += handed_n or 0
    groups = groups if grouped else {}

    def figures(values: Figures) -> Figures:
        n = values["n"]
        return {
            "conversations": n,
            "bot_resolved": values["bot"] or 0,
            "bot_resolved_rate": ratio(values["bot"], n),
            "handoff_rate": ratio(values["handed"], n),
        }

    return _each(totals, groups, figures)


# --- handoffs and ratings ----------------------------------------------------------------------------------


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


REASONS = [reason.value for reason in HandoffReason]


def handoff_kpis(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    group, grouped = _grouping(dimension, _handoff_columns(Handoff.created_at))
    accepted = epoch_seconds(Handoff.first_accepted_at)
    ended_after_acceptance = and_(
        Handoff.status.in_((HandoffStatus.CLOSED.value, HandoffStatus.RETURNED.value)), Handoff.ended_at.is_not(None)
    )
    source = select(
        group.label("g"),
        Handoff.reason.label("reason"),
        Handoff.status.label("status"),
        (accepted - epoch_seconds(Handoff.created_at)).label("queue_wait"),
        _seconds(Handoff.first_response_at, Handoff.created_at).label("first_response"),
        case((ended_after_acceptance, epoch_seconds(Handoff.ended_at) - accepted)).label("handle"),
    ).select_from(Handoff)
    if grouped and dimension == "channel":
        source = source.join(Conversation, Conversation.id == Handoff.conversation_id)
    source = source.where(window.covers(Handoff.created_at), window.in_grids(Handoff.grid_code))

    def sums(c: Any) -> dict[str, Any]:
        return {
            "n": 1,
            "abandoned": _one(c.status == HandoffStatus.ABANDONED.value),
            "handle_sum": c.handle,
            "handle_n": _one(c.handle.is_not(None)),
        } | {reason: _one(c.reason == reason) for reason in REASONS}

    totals, groups = _family(session, source, sums, grouped, ("queue_wait", "first_response", "handle"))

    def figures(values: Figures) -> Figures:
        return {
            "handoffs": values["n"],
            "handoffs_by_reason": {reason: values[reason] or 0 for reason in REASONS},
            "queue_wait_p50_seconds": _round(values["queue_wait_p50"]),
            "queue_wait_p90_seconds": _round(values["queue_wait_p90"]),
            "abandoned": values["abandoned"] or 0,
            "abandonment_rate": ratio(values["abandoned"], values["n"]),
            "first_response_p50_seconds": _round(values["first_response_p50"]),
            "first_response_p90_seconds": _round(values["first_response_p90"]),
            "handle_time_avg_seconds": _mean(values["handle_sum"], values["handle_n"]),
            "handle_time_p50_seconds": _round(values["handle_p50"]),
        }

    return _each(totals, groups, figures)


def rating_kpis(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    group, grouped = _grouping(dimension, _handoff_columns(Rating.created_at))
    source = (
        select(group.label("g"), Rating.score.label("score"))
        .select_from(Rating)
        .join(Handoff, Handoff.id == Rating.handoff_id)
    )
    if grouped and dimension == "channel":
        source = source.join(Conversation, Conversation.id == Handoff.conversation_id)
    source = source.where(window.covers(Rating.created_at), window.in_grids(Handoff.grid_code))
    totals, groups = _family(
        session, source, lambda c: {"n": 1, "score": c.score, "satisfied": _one(c.score >= 4)}, grouped
    )

    def figures(values: Figures) -> Figures:
        return {
            "csat_count": values["n"],
            "csat_avg": _mean(values["score"], values["n"], 2),
            "csat_satisfied_share": ratio(values["satisfied"], values["n"]),
        }

    return _each(totals, groups, figures)


# --- tickets -----------------------------------------------------------------------------------------------


def _ticket_columns(timestamp: Any, grid: Any = Ticket.grid_code, category: Any = Ticket.category) -> dict[str, Any]:
    return {
        "day": timestamp,
        "week": timestamp,
        "month": timestamp,
        "grid": grid,
        "category": category,
        "channel": func.coalesce(Conversation.channel, API_CHANNEL),
    }


def _with_channel(statement: Query, dimension: str | None) -> Query:
    """Tickets reach their channel through their conversation: joined only when grouping by channel."""
    if dimension != "channel":
        return statement
    return statement.outerjoin(Conversation, Conversation.sender_id == Ticket.sender_id)


def ticket_kpis(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    return _merge_parts(
        _opened(session, window, dimension),
        _steps(session, window, dimension),
        _first_resolutions(session, window, dimension),
    )


def _merge_parts(*parts: tuple[Figures, Groups]) -> tuple[Figures, Groups]:
    totals: Figures = {}
    groups: Groups = {}
    for part_totals, part_groups in parts:
        totals.update(part_totals)
        for key, values in part_groups.items():
            groups.setdefault(key, {}).update(values)
    return totals, groups


def _opened(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    """Tickets opened in the window: how many, how many went overdue, how fast they were answered."""
    group, grouped = _grouping(dimension, _ticket_columns(Ticket.created_at))
    source = _with_channel(
        select(
            group.label("g"),
            _one(Ticket.first_overdue_at.is_not(None)).label("overdue"),
            _seconds(Ticket.responded_at, Ticket.created_at).label("response"),
        ).select_from(Ticket),
        dimension if grouped else None,
    ).where(window.covers(Ticket.created_at), window.in_grids(Ticket.grid_code))
    totals, groups = _family(session, source, lambda c: {"n": 1, "overdue": c.overdue}, grouped, ("response",))

    def figures(values: Figures) -> Figures:
        return {
            "tickets_opened": values["n"],
            "tickets_overdue": values["overdue"] or 0,
            "overdue_rate": ratio(values["overdue"], values["n"]),
            "ticket_response_p50_seconds": _round(values["response_p50"]),
            "ticket_response_p90_seconds": _round(values["response_p90"]),
        }

    return _each(totals, groups, figures)


def _steps(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    """The transitions of the window (``ticket_step``): resolutions (on time or not), closings, reopenings,
    and the step visits they ended with or without an overdue mark (SLA compliance)."""
    group, grouped = _grouping(dimension, _ticket_columns(TicketStep.at, TicketStep.grid_code, TicketStep.category))
    source = select(
        group.label("g"),
        TicketStep.from_state.label("left"),
        TicketStep.to_state.label("entered"),
        TicketStep.late.label("late"),
        TicketStep.on_time.label("on_time"),
    ).select_from(TicketStep)
    if grouped and dimension == "channel":
        source = source.join(Ticket, Ticket.id == TicketStep.ticket_id)
        source = source.outerjoin(Conversation, Conversation.sender_id == Ticket.sender_id)
    source = source.where(window.covers(TicketStep.at), window.in_grids(TicketStep.grid_code))
    resolved, in_progress = TicketState.RESOLVED.value, TicketState.IN_PROGRESS.value

    def sums(c: Any) -> dict[str, Any]:
        counts = {
            "resolved": _one(c.entered == resolved),
            "on_time": _one(and_(c.entered == resolved, c.on_time.is_(True))),
            "closed": _one(c.entered == TicketState.CLOSED.value),
            "reopened": _one(and_(c.left == resolved, c.entered == in_progress)),
        }
        for step in STEPS:
            counts[f"{step.value}_n"] = _one(c.left == step.value)
            counts[f"{step.value}_ok"] = _one(and_(c.left == step.value, c.late.is_(False)))
        return counts

    totals, groups = _family(session, source, sums, grouped)

    def figures(values: Figures) -> Figures:
        n = sum(values[f"{step.value}_n"] or 0 for step in STEPS)
        ok = sum(values[f"{step.value}_ok"] or 0 for step in STEPS)
        return {
            "tickets_resolved": values["resolved"] or 0,
            "tickets_closed": values["closed"] or 0,
            "tickets_reopened": values["reopened"] or 0,
            "resolved_on_time_rate": ratio(values["on_time"], values["resolved"]),
            "sla_compliance_rate": ratio(ok, n),
        } | {
            f"sla_compliance_rate_{step.value}": ratio(values[f"{step.value}_ok"], values[f"{step.value}_n"])
            for step in STEPS
        }

    return _each(totals, groups, figures)


def _first_resolutions(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    """First-contact and complaint one-time resolution: first resolutions in the window with no reopen and no
    new ticket from the same contact phone within 7 days."""
    group, grouped = _grouping(dimension, _ticket_columns(Ticket.first_resolved_at))
    limit = epoch_seconds(Ticket.first_resolved_at) + REPEAT_SECONDS
    again = or_(
        and_(Ticket.reopened_at.is_not(None), epoch_seconds(Ticket.reopened_at) <= limit),
        and_(Ticket.repeat_contact_at.is_not(None), epoch_seconds(Ticket.repeat_contact_at) <= limit),
    )
    source = _with_channel(
        select(
            group.label("g"),
            _one(~again).label("once"),
            _one(Ticket.category == Category.COMPLAINT.value).label("complaint"),
        ).select_from(Ticket),
        dimension if grouped else None,
    ).where(window.covers(Ticket.first_resolved_at), window.in_grids(Ticket.grid_code))
    totals, groups = _family(
        session,
        source,
        lambda c: {"n": 1, "once": c.once, "complaints": c.complaint, "complaint_once": c.complaint * c.once},
        grouped,
    )

    def figures(values: Figures) -> Figures:
        return {
            "first_contact_resolution_rate": ratio(values["once"], values["n"]),
            "complaint_one_time_resolution_rate": ratio(values["complaint_once"], values["complaints"]),
        }

    return _each(totals, groups, figures)


# --- agents --------------------------------------------------------------------------------------------------


def _clipped(start: Any, end: Any, window: Window) -> ColumnElement[float]:
    """Seconds of ``[start, end)`` (epoch seconds) inside the window (0 when outside)."""
    low, high = window.start.timestamp(), window.end_or_now.timestamp()
    start_in = case((start > low, start), else_=low)
    end_in = case((end < high, end), else_=high)
    return case((end_in > start_in, end_in - start_in), else_=0.0)


def agent_kpis(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    """Online time (status events), chat time (accepted handoffs) and utilisation of the scope's agents."""
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
    accepted = epoch_seconds(Handoff.first_accepted_at)
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

    def figures(agents: list[int]) -> Figures:
        online_seconds = sum(online_by_agent.get(a, 0.0) for a in agents)
        chat_seconds = sum(chat_by_agent.get(a, 0.0) for a in agents)
        slots = sum(online_by_agent.get(a, 0.0) * capacity.get(a, 1) for a in agents)
        return {
            "agent_online_seconds": _round(online_seconds),
            "agent_chat_seconds": _round(chat_seconds),
            "agent_utilisation": ratio(chat_seconds, slots),
        }

    agents = sorted(capacity)
    if dimension != "agent":
        return figures(agents), {}
    return figures(agents), {
        str(agent): figures([agent]) for agent in agents if agent in online_by_agent or agent in chat_by_agent
    }


# --- knowledge base ----------------------------------------------------------------------------------------


def kb_kpis(session: Session, window: Window, dimension: str | None) -> tuple[Figures, Groups]:
    """The knowledge base's searches, answers, deflection and 没帮助 rate (global: no grid, agent or channel).
    Every figure is a sum, so the totals are the groups' sums."""
    bucket = dimension if dimension in BUCKETS else None
    usage_group = literal(TOTAL) if bucket is None else local_bucket(FaqUsage.day, bucket, shift=False)
    kinds = [UsageKind.ANSWERED, UsageKind.CHOSEN, UsageKind.UNHELPFUL]
    usage = (
        select(usage_group, *[func.sum(case((FaqUsage.kind == kind.value, FaqUsage.count), else_=0)) for kind in kinds])
        .where(FaqUsage.day >= window.first_day, FaqUsage.day <= window.last_day)
        .group_by(usage_group)
    )
    miss_group = literal(TOTAL) if bucket is None else local_bucket(Miss.created_at, bucket)
    misses = (
        select(miss_group, func.count())
        .where(window.covers(Miss.created_at), Miss.kind.in_(("miss", "low_confidence")))
        .group_by(miss_group)
    )
    counts: dict[str, dict[str, int]] = {}
    for row in session.execute(usage):
        counts[group_key(row[0])] = {kind.value: row[n] or 0 for n, kind in enumerate(kinds, start=1)}
    for key, n in session.execute(misses):
        counts.setdefault(group_key(key), {})["misses"] = n or 0

    def figures(values: dict[str, int]) -> Figures:
        answered = values.get("answered", 0)
        answers = answered + values.get("chosen", 0)
        unhelpful = values.get("unhelpful", 0)
        searches = answered + values.get("misses", 0)
        return {
            "kb_searches": searches,
            "kb_answers": answers,
            "kb_deflection_rate": ratio(answers - unhelpful, searches),
            "kb_unhelpful_rate": ratio(unhelpful, answers),
        }

    total: dict[str, int] = {}
    for values in counts.values():
        for name, n in values.items():
            total[name] = total.get(name, 0) + n
    groups = {key: figures(counts[key]) for key in sorted(counts)} if bucket is not None else {}
    return figures(total), groups


FAMILY_FUNCTIONS: dict[str, Family] = {
    "conversations": conversation_kpis,
    "handoffs": handoff_kpis,
    "ratings": rating_kpis,
    "tickets": ticket_kpis,
    "agents": agent_kpis,
    "kb": kb_kpis,
}


def compute_all(session: Session, window: Window, dimension: str | None = None) -> tuple[Figures, Groups]:
    """Every family's KPIs for the window: ``(totals, groups by dimension)``, each family read once."""
    return _merge_parts(*(function(session, window, dimension) for function in FAMILY_FUNCTIONS.values()))


def compute(session: Session, window: Window, dimension: str | None = None) -> Groups:
    """The groups of ``dimension``, or ``{"": totals}`` for the whole window (dimension None)."""
    totals, groups = compute_all(session, window, dimension)
    return {TOTAL: totals} if dimension is None else groups
