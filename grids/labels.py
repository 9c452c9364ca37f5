"""Chinese labels of grid values: customer groups, agents' availability and skills (defined once)."""

from __future__ import annotations

from grids.models import AgentStatus, CustomerTier

TIER_LABELS: dict[str, str] = {
    CustomerTier.GENERAL: "一般客户",
    CustomerTier.KEY: "重要客户",
    CustomerTier.PROSPECT: "潜在客户",
}
AGENT_STATUS_LABELS: dict[str, str] = {
    AgentStatus.ONLINE: "在线",
    AgentStatus.AWAY: "忙碌",
    AgentStatus.OFFLINE: "离线",
}
# agents' skills (accounts/seed/staff.json, the handoff packet's ``skill``); an unknown skill shows as written
SKILL_LABELS: dict[str, str] = {
    "general": "综合咨询",
    "complaint": "投诉处理",
    "broadband": "宽带",
    "fault": "故障维修",
    "billing": "账务",
    "refund": "退款",
    "cloud": "云服务",
    "it": "IT 支持",
    "consultation": "咨询",
    "after_sales": "售后",
    "suggestion": "建议",
}
