"""Chinese labels of ticket states and priorities, for everything customers and agents read."""

from __future__ import annotations

from tickets.models import Priority, TicketState

STATE_LABELS: dict[TicketState, str] = {
    TicketState.ACCEPTED: "已受理",
    TicketState.ANALYSING: "分析中",
    TicketState.IN_PROGRESS: "处理中",
    TicketState.RESOLVED: "已解决",
    TicketState.CLOSED: "已关闭",
}
PRIORITY_LABELS: dict[Priority, str] = {
    Priority.URGENT: "紧急", Priority.HIGH: "高", Priority.NORMAL: "普通", Priority.LOW: "低",
}
