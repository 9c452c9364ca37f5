"""Every KPI on the hand-computed month of tests/reports/fixture.py (expected figures worked out by hand from
the fixture's timestamps and docs/kpis.md; the arithmetic is in the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from griddesk.db import session_scope
from reports.kpis import compute, window_of
from tests.reports.fixture import build

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def agents(settings):
    with session_scope() as session:
        return build(session)


def kpis(grids=("cd-wuhou",), group_by=None, days=MARCH):
    with session_scope() as session:
        return compute(session, window_of(*days, grids, NOW), group_by)


def test_conversation_kpis_of_one_grid(agents):
    total = kpis()[""]
    # c1 c2 c3 c4 c7 (c6 is February's); only c1 has no handoff, no 没帮助 (c3) and no ticket (c4)
    assert total["conversations"] == 5
    assert total["bot_resolved"] == 1
    assert total["bot_resolved_rate"] == 0.2
    # c2 (h1), c4 (h4, in billing: still cd-wuhou's conversation), c7 (h2, h3)
    assert total["handoff_rate"] == 0.6


def test_conversations_of_every_grid_count_the_local_days_at_the_window_edges(agents):
    total = kpis(grids=None)[""]
    # + c5 and c9 (anonymous → central; c9 at 00:30 on March 1st local, c8 at 00:30 on April 1st is out)
    assert total["conversations"] == 7
    assert total["bot_resolved_rate"] == round(3 / 7, 4)
    assert total["handoff_rate"] == round(3 / 7, 4)


def test_handoff_kpis_of_one_grid(agents):
    total = kpis()[""]
    assert total["handoffs"] == 3  # h1 h2 h3 (h4 is billing's)
    assert total["handoffs_by_reason"] == {
        "customer_request": 2,
        "repeated_misses": 0,
        "low_confidence": 0,
        "complaint": 1,
        "form_failures": 0,
        "rule": 0,
        "bot_unavailable": 0,
    }
    # queue waits [30, 90]: p50 rank ⌈0.5·2⌉ = 1 → 30, p90 rank ⌈0.9·2⌉ = 2 → 90
    assert (total["queue_wait_p50_seconds"], total["queue_wait_p90_seconds"]) == (30.0, 90.0)
    assert total["abandoned"] == 1 and total["abandonment_rate"] == 0.3333
    assert (total["first_response_p50_seconds"], total["first_response_p90_seconds"]) == (50.0, 100.0)
    # handle: h1 650 − 30 = 620, h2 400 − 90 = 310 (h3 was never accepted)
    assert total["handle_time_avg_seconds"] == 465.0
    assert total["handle_time_p50_seconds"] == 310.0


def test_handoff_percentiles_of_every_grid(agents):
    total = kpis(grids=None)[""]
    # + h4: waits [10, 30, 90] → p50 rank 2 = 30, p90 rank 3 = 90; handle [210, 310, 620]
    assert total["handoffs"] == 4
    assert (total["queue_wait_p50_seconds"], total["queue_wait_p90_seconds"]) == (30.0, 90.0)
    assert (total["first_response_p50_seconds"], total["first_response_p90_seconds"]) == (50.0, 100.0)
    assert total["handle_time_avg_seconds"] == 380.0 and total["handle_time_p50_seconds"] == 310.0
    assert total["abandonment_rate"] == 0.25


def test_csat(agents):
    one = kpis()[""]
    assert (one["csat_count"], one["csat_avg"], one["csat_satisfied_share"]) == (2, 4.0, 0.5)  # 5 and 3
    every = kpis(grids=None)[""]
    assert (every["csat_count"], every["csat_avg"], every["csat_satisfied_share"]) == (3, 4.0, 0.6667)  # + 4


def test_ticket_volumes_response_and_timeliness(agents):
    total = kpis()[""]
    assert total["tickets_opened"] == 5  # T1 T2 T3 T5 T6 (T8 is February's, T7 billing's)
    assert total["tickets_overdue"] == 2 and total["overdue_rate"] == 0.4  # T2, T3
    # responses: T1 1200 s, T2 3000 s, T5 600 s → p50 rank 2 = 1200, p90 rank 3 = 3000
    assert (total["ticket_response_p50_seconds"], total["ticket_response_p90_seconds"]) == (1200.0, 3000.0)
    # resolutions in March: T1, T2 twice, T5, T8; on time: T1 and T5
    assert total["tickets_resolved"] == 5 and total["resolved_on_time_rate"] == 0.4
    assert total["tickets_closed"] == 1 and total["tickets_reopened"] == 1


def test_sla_compliance_per_step(agents):
    total = kpis()[""]
    # accepted: T1 ok, T2 late (overdue 40 min in), T5 ok → 2/3
    assert total["sla_compliance_rate_accepted"] == 0.6667
    # analysing: T1 T2 T5 ok, T8 late (entered in February, overdue before it left in March) → 3/4
    assert total["sla_compliance_rate_analysing"] == 0.75
    # in progress: T1, T2's first visit, T5, T8 ok; T2's second visit (after the reopen) late → 4/5
    assert total["sla_compliance_rate_in_progress"] == 0.8
    assert total["sla_compliance_rate"] == 0.75  # 9/12


def test_first_contact_and_complaint_one_time_resolution(agents):
    total = kpis()[""]
    # first resolutions: T1 ok (T3 from the same phone came 9 days later), T2 reopened, T5 repeated by T6
    # 2 days later, T8 ok → 2/4; complaints T1 ok, T5 not → 1/2
    assert total["first_contact_resolution_rate"] == 0.5
    assert total["complaint_one_time_resolution_rate"] == 0.5


def test_ticket_response_percentiles_of_every_grid(agents):
    total = kpis(grids=None)[""]
    assert total["tickets_opened"] == 6
    # [600, 600, 1200, 3000] → p50 rank 2 = 600, p90 rank 4 = 3000
    assert (total["ticket_response_p50_seconds"], total["ticket_response_p90_seconds"]) == (600.0, 3000.0)


def test_agent_online_time_chat_time_and_utilisation(agents):
    total = kpis()[""]
    # A: online 2 h on T0 + away 1 h = 10800 s; B: online 23:00–01:00 across the window's start → 3600 s
    assert total["agent_online_seconds"] == 14400.0
    assert total["agent_chat_seconds"] == 1140.0  # A 620 (h1), B 310 + 210 (h2, h4)
    assert total["agent_utilisation"] == 0.0452  # 1140 / (10800·2 + 3600·1)
    per_agent = kpis(group_by="agent")
    assert per_agent[str(agents["a"])]["agent_utilisation"] == 0.0287  # 620 / 21600
    assert per_agent[str(agents["b"])]["agent_utilisation"] == 0.1444  # 520 / 3600


def test_knowledge_base_deflection_and_unhelpful_rate(agents):
    total = kpis()[""]
    assert total["kb_searches"] == 13  # 10 answered + 2 fallbacks + 1 suggestion (February's left out)
    assert total["kb_answers"] == 12  # answered + chosen
    assert total["kb_deflection_rate"] == 0.6923  # (12 − 3) / 13
    assert total["kb_unhelpful_rate"] == 0.25  # 3 / 12
    by_day = kpis(group_by="day")
    assert by_day["2026-03-10"]["kb_searches"] == 11 and by_day["2026-03-11"]["kb_deflection_rate"] == 0.0


def test_groups_by_local_day_week_and_month(agents):
    by_day = kpis(group_by="day")
    # c7 began at 16:30 UTC on the 12th: the 13th in Shanghai
    assert {day: g.get("conversations") for day, g in by_day.items() if g.get("conversations")} == {
        "2026-03-10": 2,
        "2026-03-11": 2,
        "2026-03-13": 1,
    }
    by_week = kpis(group_by="week")
    assert by_week["2026-03-09"]["conversations"] == 5 and by_week["2026-03-09"]["handoffs"] == 3
    assert kpis(group_by="month")["2026-03"]["tickets_opened"] == 5


def test_groups_by_agent_channel_category_and_grid(agents):
    by_agent = kpis(group_by="agent")
    assert {key: g.get("handoffs") for key, g in by_agent.items()} == {
        str(agents["a"]): 1,
        str(agents["b"]): 1,
        "none": 1,
    }
    assert "conversations" not in by_agent.get("none", {})  # conversations have no agent
    by_channel = kpis(group_by="channel")
    assert by_channel["rest"]["conversations"] == 3 and by_channel["wecom"]["conversations"] == 1
    assert by_channel["telegram"]["conversations"] == 1
    assert by_channel["api"]["tickets_opened"] == 4 and by_channel["rest"]["tickets_opened"] == 1  # T1 via c4
    by_category = kpis(group_by="category")
    assert {key: g.get("tickets_opened") for key, g in by_category.items() if key != "none"} == {
        "complaint": 2,
        "fault": 1,
        "consultation": 2,
    }
    by_grid = kpis(grids=None, group_by="grid")
    assert by_grid["cd-wuhou"]["conversations"] == 5 and by_grid["central"]["conversations"] == 2
    assert by_grid["billing"]["handoffs"] == 1 and by_grid["billing"]["tickets_opened"] == 1


def test_an_empty_window_has_no_rates(agents):
    total = kpis(days=(date(2025, 1, 1), date(2025, 1, 31))).get("", {})
    assert total.get("conversations") in (None, 0)
    assert total.get("bot_resolved_rate") is None and total.get("csat_avg") is None
