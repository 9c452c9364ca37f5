"""The staffing forecast of a grid (智能调度 · 弹性资源配置; definitions in docs/kpis.md, "Staffing forecast").

For each hour of the week (Monday 00:00 … Sunday 23:00, Asia/Shanghai), from the last ``weeks`` complete weeks:
the handoffs to expect (the average of that hour over the weeks), the traffic they bring with the grid's average
handle time, the chat slots Erlang C asks for to meet the grid's wait target (``reports.erlang``), the agents
that makes with the grid's chats per agent, and the agents that were online in that hour on average, from
their status history: an hour is short where fewer were online than needed. Beside it, the grid's roster now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grids.agent_status import is_present
from grids.models import AgentStatus, AgentStatusEvent, Grid
from grids.sla import SERVICE_TZ
from handoff.dispatch import AgentLoad, agent_loads
from handoff.models import Handoff
from reports.erlang import servers_needed
from reports.kpis import Window, handoff_kpis, window_of
from reports.sql import local_hour_of_week
from reports.targets import grid_targets

HOURS_OF_WEEK = 7 * 24
DEFAULT_WEEKS = 4
MAX_WEEKS = 26
# The wait target is the grid's first_response_p90_seconds target: 90 % of customers answered within it.
SERVICE_LEVEL = 0.9
WAIT_TARGET_KPI = "first_response_p90_seconds"
DEFAULT_MAX_CHATS = 3  # an agent's chats at once when the grid has no agents yet (the agent table's default)


@dataclass(frozen=True)
class Hour:
    """One hour of the week: ``hour_of_week`` 0 = Monday 00:00–01:00 … 167 = Sunday 23:00–24:00."""

    hour_of_week: int
    handoffs: float  # expected handoffs in the hour
    traffic: float  # erlangs: handoffs per hour × average handle time / 3600
    slots: int  # chats at once Erlang C needs (servers)
    agents_needed: int
    agents_available: float  # the grid's agents online in this hour, on average over the weeks (0.1 steps)

    @property
    def short(self) -> bool:
        return self.agents_available < self.agents_needed

    def as_json(self) -> dict[str, Any]:
        return {
            "hour_of_week": self.hour_of_week,
            "weekday": self.hour_of_week // 24 + 1,
            "hour": self.hour_of_week % 24,
            "handoffs": round(self.handoffs, 2),
            "traffic_erlangs": round(self.traffic, 3),
            "slots_needed": self.slots,
            "agents_needed": self.agents_needed,
            "agents_available": self.agents_available,
            "short": self.short,
        }


@dataclass(frozen=True)
class Forecast:
    grid: Grid
    window: Window
    weeks: int
    handoffs: int  # in the weeks read
    handle_seconds: float
    handle_from_history: bool
    wait_target_seconds: float
    chats_per_agent: float
    hours: list[Hour]
    roster: list[AgentLoad] = field(default_factory=list)

    @property
    def short_hours(self) -> int:
        return sum(1 for hour in self.hours if hour.short)

    def as_json(self) -> dict[str, Any]:
        now = self.window.now
        return {
            "grid": self.grid.code,
            "name": self.grid.name,
            "time_zone": SERVICE_TZ.key,
            "weeks": self.weeks,
            "from": self.window.first_day.isoformat(),
            "to": self.window.last_day.isoformat(),
            "handoffs": self.handoffs,
            "handle_time_avg_seconds": round(self.handle_seconds, 1),
            "handle_time_source": "history" if self.handle_from_history else "default",
            "wait_target_seconds": self.wait_target_seconds,
            "service_level": SERVICE_LEVEL,
            "chats_per_agent": round(self.chats_per_agent, 2),
            "short_hours": self.short_hours,
            "hours": [hour.as_json() for hour in self.hours],
            "online_now": sum(1 for agent in self.roster if agent.status is AgentStatus.ONLINE),
            "roster": [
                {
                    "id": agent.account_id,
                    "name": agent.name,
                    "status": str(agent.status),
                    "present": is_present(agent.seen_at, now),
                    "active_chats": agent.active_chats,
                    "max_chats": agent.max_chats,
                    "skills": list(agent.skills),
                }
                for agent in self.roster
            ],
        }


def history_window(grid: str, weeks: int, now: datetime) -> Window:
    """The ``weeks`` complete local weeks (Monday to Sunday) before the current one."""
    monday = now.astimezone(SERVICE_TZ).date()
    monday -= timedelta(days=monday.weekday())
    return window_of(monday - timedelta(weeks=weeks), monday - timedelta(days=1), [grid], now)


def forecast(session: Session, grid: Grid, weeks: int, now: datetime) -> Forecast:
    """The grid's forecast from the ``weeks`` complete weeks before ``now`` (see the module docstring)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be 1–{MAX_WEEKS}")
    window = history_window(grid.code, weeks, now)
    arrivals = _arrivals(session, window)
    handle = handoff_kpis(session, window, None)[0]["handle_time_avg_seconds"]
    handle_seconds = float(handle) if handle else float(grid.handoff_policy().default_handling_seconds)
    target = grid_targets(session, grid).get(WAIT_TARGET_KPI)
    target_seconds = float(target if target is not None else grid.handoff_policy().first_response_seconds)
    roster = agent_loads(session, [grid.code])
    chats = sum(agent.max_chats for agent in roster) / len(roster) if roster else float(DEFAULT_MAX_CHATS)
    online = _online_seconds(session, [agent.account_id for agent in roster], window)
    hours = []
    for n in range(HOURS_OF_WEEK):
        expected = arrivals.get(n, 0) / weeks
        traffic = expected * handle_seconds / 3600
        slots = servers_needed(traffic, handle_seconds, target_seconds, SERVICE_LEVEL)
        available = round(online[n] / (3600 * weeks), 1)
        hours.append(Hour(n, expected, traffic, slots, math.ceil(slots / chats), available))
    return Forecast(
        grid=grid,
        window=window,
        weeks=weeks,
        handoffs=sum(arrivals.values()),
        handle_seconds=handle_seconds,
        handle_from_history=bool(handle),
        wait_target_seconds=target_seconds,
        chats_per_agent=chats,
        hours=hours,
        roster=roster,
    )


def _arrivals(session: Session, window: Window) -> dict[int, int]:
    """Handoffs of the window's grid per local hour of the week."""
    hour = local_hour_of_week(Handoff.created_at)
    statement = (
        select(hour, func.count())
        .where(window.covers(Handoff.created_at), window.in_grids(Handoff.grid_code))
        .group_by(hour)
    )
    return {int(n): int(count) for n, count in session.execute(statement)}


def _online_seconds(session: Session, agents: Sequence[int], window: Window) -> list[float]:
    """Seconds the ``agents`` were ``online`` in the window, per local hour of the week (summed over agents and
    weeks). Each status lasts from its event to the agent's next one; the state at the window's start is the
    agent's last event before it (none: offline)."""
    seconds = [0.0] * HOURS_OF_WEEK
    if not agents:
        return seconds
    start, end = window.start, window.end_or_now
    latest = (
        select(
            AgentStatusEvent.account_id,
            AgentStatusEvent.status,
            func.row_number()
            .over(
                partition_by=AgentStatusEvent.account_id,
                order_by=(AgentStatusEvent.at.desc(), AgentStatusEvent.id.desc()),
            )
            .label("rank"),
        )
        .where(AgentStatusEvent.account_id.in_(agents), AgentStatusEvent.at < start)
        .subquery()
    )
    timeline: dict[int, list[tuple[datetime, str]]] = {
        account: [(start, status)]
        for account, status in session.execute(select(latest.c.account_id, latest.c.status).where(latest.c.rank == 1))
    }
    events = session.execute(
        select(AgentStatusEvent.account_id, AgentStatusEvent.at, AgentStatusEvent.status)
        .where(AgentStatusEvent.account_id.in_(agents), AgentStatusEvent.at >= start, AgentStatusEvent.at < end)
        .order_by(AgentStatusEvent.account_id, AgentStatusEvent.at, AgentStatusEvent.id)
    )
    for account, at, status in events:
        timeline.setdefault(account, []).append((at, status))
    for changes in timeline.values():
        for (since, state), (until, _) in zip(changes, [*changes[1:], (end, "")], strict=True):
            if state == AgentStatus.ONLINE.value:
                _spread(seconds, since, until)
    return seconds


def _spread(seconds: list[float], since: datetime, until: datetime) -> None:
    """Add ``[since, until)`` to the hours of the week it covers (local time)."""
    moment = since.astimezone(SERVICE_TZ)
    end = until.astimezone(SERVICE_TZ)
    while moment < end:
        boundary = moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        step_end = min(boundary, end)
        seconds[moment.weekday() * 24 + moment.hour] += (step_end - moment).total_seconds()
        moment = step_end
