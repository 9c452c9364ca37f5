"""Chinese labels of grid values: customer groups and agents' availability (defined once)."""

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
