"""Every KPI the reports API returns: its stable name, Chinese label, unit, family and which way is better.

The definitions are in docs/kpis.md; the names here are the API's contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    COUNT = "count"
    RATE = "rate"  # a fraction 0–1
    SECONDS = "seconds"
    SCORE = "score"  # CSAT 1–5
    BREAKDOWN = "breakdown"  # an object of counts


class Better(StrEnum):
    HIGHER = "higher"  # a target is a floor: value >= target
    LOWER = "lower"  # a target is a ceiling: value <= target


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: Unit
    family: str
    better: Better | None = None  # None: no direction (volumes), so no target

    @property
    def op(self) -> str | None:
        return {Better.HIGHER: ">=", Better.LOWER: "<="}.get(self.better) if self.better else None


H, L = Better.HIGHER, Better.LOWER
_C, _R, _S = Unit.COUNT, Unit.RATE, Unit.SECONDS

KPIS: tuple[Kpi, ...] = (
    Kpi("conversations", "会话量", _C, "conversations"),
    Kpi("bot_resolved", "机器人独立解决会话", _C, "conversations"),
    Kpi("bot_resolved_rate", "机器人独立解决率", _R, "conversations", H),
    Kpi("handoff_rate", "转人工率", _R, "conversations", L),
    Kpi("handoffs", "转人工次数", _C, "handoffs"),
    Kpi("handoffs_by_reason", "转人工原因", Unit.BREAKDOWN, "handoffs"),
    Kpi("queue_wait_p50_seconds", "排队等待（中位数）", _S, "handoffs", L),
    Kpi("queue_wait_p90_seconds", "排队等待（90分位）", _S, "handoffs", L),
    Kpi("abandoned", "排队放弃数", _C, "handoffs"),
    Kpi("abandonment_rate", "排队放弃率", _R, "handoffs", L),
    Kpi("first_response_p50_seconds", "人工首次响应（中位数）", _S, "handoffs", L),
    Kpi("first_response_p90_seconds", "人工首次响应（90分位）", _S, "handoffs", L),
    Kpi("handle_time_avg_seconds", "平均处理时长", _S, "handoffs", L),
    Kpi("handle_time_p50_seconds", "处理时长（中位数）", _S, "handoffs", L),
    Kpi("csat_count", "评价数", _C, "ratings"),
    Kpi("csat_avg", "平均满意度评分", Unit.SCORE, "ratings", H),
    Kpi("csat_satisfied_share", "客户满意度（4–5分占比）", _R, "ratings", H),
    Kpi("tickets_opened", "新建工单", _C, "tickets"),
    Kpi("tickets_resolved", "解决工单", _C, "tickets"),
    Kpi("tickets_closed", "关闭工单", _C, "tickets"),
    Kpi("tickets_reopened", "重开工单", _C, "tickets"),
    Kpi("tickets_overdue", "超时工单", _C, "tickets"),
    Kpi("overdue_rate", "工单超时率", _R, "tickets", L),
    Kpi("ticket_response_p50_seconds", "工单响应时长（中位数）", _S, "tickets", L),
    Kpi("ticket_response_p90_seconds", "工单响应时长（90分位）", _S, "tickets", L),
    Kpi("sla_compliance_rate", "环节按时完成率", _R, "tickets", H),
    Kpi("sla_compliance_rate_accepted", "受理环节按时率", _R, "tickets", H),
    Kpi("sla_compliance_rate_analysing", "分析环节按时率", _R, "tickets", H),
    Kpi("sla_compliance_rate_in_progress", "处理环节按时率", _R, "tickets", H),
    Kpi("resolved_on_time_rate", "工单处理及时率", _R, "tickets", H),
    Kpi("first_contact_resolution_rate", "一次解决率", _R, "tickets", H),
    Kpi("complaint_one_time_resolution_rate", "投诉一次解决率", _R, "tickets", H),
    Kpi("agent_online_seconds", "客服在线时长", _S, "agents"),
    Kpi("agent_chat_seconds", "客服接待时长", _S, "agents"),
    Kpi("agent_utilisation", "客服利用率", _R, "agents"),
    Kpi("kb_searches", "知识库检索次数", _C, "kb"),
    Kpi("kb_answers", "知识库作答次数", _C, "kb"),
    Kpi("kb_deflection_rate", "知识库自助解决率", _R, "kb", H),
    Kpi("kb_unhelpful_rate", "知识库“没帮助”率", _R, "kb", L),
)
BY_NAME: dict[str, Kpi] = {kpi.name: kpi for kpi in KPIS}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(kpi.family for kpi in KPIS))
TARGETABLE: tuple[str, ...] = tuple(kpi.name for kpi in KPIS if kpi.better is not None)

GROUP_BY = ("day", "week", "month", "grid", "agent", "category", "channel")
GROUP_LABELS = {
    "day": "按日",
    "week": "按周",
    "month": "按月",
    "grid": "按网格",
    "agent": "按客服",
    "category": "按类别",
    "channel": "按渠道",
}
