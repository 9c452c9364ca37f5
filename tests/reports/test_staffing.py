"""The staffing forecast on two hand-made weeks (docs/kpis.md, "Staffing forecast"); figures worked out by hand.

NOW = Wednesday 2026-03-18 10:00 Asia/Shanghai; with weeks=2 the history is Monday 2026-03-02 00:00 to Sunday
2026-03-15 24:00 local. cd-wuhou has agents a (3 chats at once) and b (2): 2.5 chats per agent; its wait target
is its first_response_p90_seconds target (60 s by default), to be met for 90 % of the customers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from griddesk.db import session_scope
from grids.models import AgentStatusEvent, Grid
from grids.sla import SERVICE_TZ
from handoff.models import HandoffStatus
from reports.facts import rebuild
from reports.staffing import HOURS_OF_WEEK, forecast
from reports.targets import set_targets
from tests.reports.fixture import _account, _conversation, _handoff

NOW = datetime(2026, 3, 18, 10, 0, tzinfo=SERVICE_TZ).astimezone(UTC)
S = timedelta(seconds=1)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SERVICE_TZ).astimezone(UTC)


def feb(day: int, hour: int) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=SERVICE_TZ).astimezone(UTC)


@pytest.fixture
def history(settings):
    with session_scope() as session:
        a = _account(session, "agent.a", "cd-wuhou", 3)
        b = _account(session, "agent.b", "cd-wuhou", 2)
        other = _account(session, "agent.other", "cd-jinjiang", 3)
        handoffs = [
            # Monday 09:00–10:00 (hour 9), in both weeks: three finished chats of 240, 360 and 480 s
            ("cd-wuhou", local(2, 9, 10), HandoffStatus.CLOSED, 240),
            ("cd-wuhou", local(9, 9, 20), HandoffStatus.CLOSED, 360),
            ("cd-wuhou", local(9, 9, 40), HandoffStatus.RETURNED, 480),
            # the first second of the history (hour 0) and the last hour (Sunday 23:00, hour 167): not finished
            ("cd-wuhou", local(2, 0), HandoffStatus.ABANDONED, None),
            ("cd-wuhou", local(15, 23, 30), HandoffStatus.ABANDONED, None),
            # outside the history (the Sunday before, this week) or another grid's: not counted
            ("cd-wuhou", local(2, 0) - S, HandoffStatus.CLOSED, 9000),
            ("cd-wuhou", local(16, 9), HandoffStatus.CLOSED, 9000),
            ("cd-jinjiang", local(9, 9), HandoffStatus.CLOSED, 9000),
        ]
        for n, (grid, at, status, handle) in enumerate(handoffs):
            conversation = _conversation(session, f"c{n}", at - 60 * S)
            finished = handle is not None
            _handoff(
                session, conversation, grid, "customer_request", at, status,
                agent=a if finished else None,
                accepted=30 * S if finished else None,
                ended=(30 + handle) * S if finished else 300 * S,
            )  # fmt: skip
        statuses = [
            # a: online 08:24–09:30 on Monday the 2nd (away after: not available), 09:00–09:54 on the 9th, and the
            # whole last hour of the history (Sunday the 15th, 23:00 until the history ends)
            (a, local(2, 8, 24), "online"),
            (a, local(2, 9, 30), "away"),
            (a, local(2, 10), "offline"),
            (a, local(9, 9), "online"),
            (a, local(9, 9, 54), "offline"),
            (a, local(15, 23), "online"),
            # b: online since Saturday 2026-02-28 (before the history) until Monday 00:36, then again from
            # Sunday the 15th 23:00 until after the history's end
            (b, feb(28, 20), "online"),
            (b, local(2, 0, 36), "offline"),
            (b, local(15, 23), "online"),
            (b, local(16, 1), "offline"),
            # another grid's agent, online in hour 9: not cd-wuhou's
            (other, local(9, 8), "online"),
        ]
        for account, at, status in statuses:
            session.add(AgentStatusEvent(account_id=account, status=status, at=at))
        session.flush()
        rebuild(session)
    return {"a": a, "b": b}


def cd_wuhou(weeks: int = 2):
    with session_scope() as session:
        return forecast(session, session.get(Grid, "cd-wuhou"), weeks, NOW).as_json()


def test_the_forecast_of_each_hour_of_the_week(history):
    body = cd_wuhou()
    assert (body["from"], body["to"], body["weeks"]) == ("2026-03-02", "2026-03-15", 2)
    assert body["handoffs"] == 5
    assert body["handle_time_avg_seconds"] == 360.0  # (240 + 360 + 480) / 3
    assert body["handle_time_source"] == "history"
    assert (body["wait_target_seconds"], body["service_level"], body["chats_per_agent"]) == (60.0, 0.9, 2.5)
    hours = body["hours"]
    assert len(hours) == HOURS_OF_WEEK and [h["hour_of_week"] for h in hours] == list(range(HOURS_OF_WEEK))
    assert hours[9] == {
        "hour_of_week": 9,
        "weekday": 1,
        "hour": 9,
        "handoffs": 1.5,  # 3 handoffs in 2 weeks
        # A = 1.5 × 360 / 3600 = 0.15 erlangs. One slot: C = A = 0.15, P(wait ≤ 60 s) = 1 − 0.15·e^(−0.85·60/360)
        # = 0.8698 < 0.9. Two: B = 0.01125/1.16125 = 0.009688, C = 2B/(2 − 0.15(1 − B)) = 0.010465,
        # P = 1 − 0.010465·e^(−1.85/6) = 0.9923: 2 slots, ⌈2 / 2.5⌉ = 1 agent
        "traffic_erlangs": 0.15,
        "slots_needed": 2,
        "agents_needed": 1,
        # a online 09:00–09:30 on the 2nd (then away) and 09:00–09:54 on the 9th: 84 min = 5040 s / 7200 s
        "agents_available": 0.7,
        "short": True,
    }
    # hour 0: 1 handoff in 2 weeks, A = 0.05: one slot gives 1 − 0.05·e^(−0.95/6) = 0.9573 ≥ 0.9;
    # b online 00:00–00:36 on the 2nd: 2160 s / 7200 = 0.3 < 1
    assert {k: hours[0][k] for k in ("handoffs", "slots_needed", "agents_needed", "agents_available", "short")} == {
        "handoffs": 0.5, "slots_needed": 1, "agents_needed": 1, "agents_available": 0.3, "short": True,
    }  # fmt: skip
    # Sunday 23:00: a and b online the whole hour of the 15th: 7200 s / 7200 = 1.0 ≥ 1
    assert {k: hours[167][k] for k in ("weekday", "hour", "agents_needed", "agents_available", "short")} == {
        "weekday": 7, "hour": 23, "agents_needed": 1, "agents_available": 1.0, "short": False,
    }  # fmt: skip
    # Monday 08:00: a online 08:24–09:00 on the 2nd (2160 s / 7200 = 0.3), nobody needed
    assert (hours[8]["agents_needed"], hours[8]["agents_available"], hours[8]["short"]) == (0, 0.3, False)
    quiet = [h for h in hours if h["hour_of_week"] not in (0, 8, 9, 167)]
    assert {(h["handoffs"], h["agents_needed"], h["agents_available"]) for h in quiet} == {(0.0, 0, 0.0)}
    assert body["short_hours"] == 2


def test_the_roster_lists_the_grids_agents_with_their_status_now(history):
    body = cd_wuhou()
    assert [(agent["name"], agent["max_chats"]) for agent in body["roster"]] == [("agent.a", 3), ("agent.b", 2)]
    assert {agent["status"] for agent in body["roster"]} == {"offline"}  # agent.status: nobody logged in
    assert body["online_now"] == 0 and not any(agent["present"] for agent in body["roster"])


def test_the_grids_wait_target_decides_and_a_cleared_one_falls_back_to_the_grids_first_response(history):
    with session_scope() as session:
        set_targets(session, "cd-wuhou", {"first_response_p90_seconds": 600}, "admin", NOW)
    body = cd_wuhou()
    # hour 9 within 600 s: one slot gives 1 − 0.15·e^(−0.85·600/360) = 1 − 0.15·0.2425 = 0.9636 ≥ 0.9
    assert (body["wait_target_seconds"], body["hours"][9]["slots_needed"]) == (600.0, 1)
    with session_scope() as session:
        set_targets(session, "cd-wuhou", {"first_response_p90_seconds": None}, "admin", NOW)
    body = cd_wuhou()
    assert (body["wait_target_seconds"], body["hours"][9]["slots_needed"]) == (60.0, 2)  # first_response_seconds


def test_without_history_the_default_handle_time_is_used_and_nobody_is_needed(settings):
    with session_scope() as session:
        body = forecast(session, session.get(Grid, "cd-wuhou"), 4, NOW).as_json()
    assert body["handoffs"] == 0 and body["handle_time_source"] == "default"
    assert body["handle_time_avg_seconds"] == 300.0  # grids.handoff_policy default_handling_seconds
    assert body["chats_per_agent"] == 3.0 and body["roster"] == []
    assert body["short_hours"] == 0 and {h["agents_needed"] for h in body["hours"]} == {0}


def test_more_weeks_average_over_more_weeks(history):
    body = cd_wuhou(weeks=3)  # 2026-02-23 to 2026-03-15: the 5 handoffs and the one of Sunday the 1st, 23:59:59
    assert (body["from"], body["handoffs"]) == ("2026-02-23", 6)
    assert (body["hours"][9]["handoffs"], body["hours"][167]["handoffs"]) == (1.0, 0.67)  # 3/3, 2/3
    # b was online from Saturday 2026-02-28 20:00 (before the 2-week history) to Monday 00:36: in 1 week of 3
    assert [body["hours"][5 * 24 + h]["agents_available"] for h in (19, 20, 23)] == [0.0, 0.3, 0.3]
    assert body["hours"][6 * 24 + 12]["agents_available"] == 0.3
    # Sunday 23:00: b on the 1st, a and b on the 15th: 3 agent-hours / 3 weeks
    assert body["hours"][167]["agents_available"] == 1.0
