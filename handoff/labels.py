"""Chinese labels of handoff values, for the consoles (served by ``GET /api/v1/console/labels``)."""

from __future__ import annotations

from handoff.models import HandoffReason, HandoffStatus

REASON_LABELS: dict[str, str] = {
    HandoffReason.CUSTOMER_REQUEST: "客户要求转人工",
    HandoffReason.REPEATED_MISSES: "机器人连续未能解答",
    HandoffReason.LOW_CONFIDENCE: "机器人把握不足",
    HandoffReason.COMPLAINT: "客户投诉",
    HandoffReason.FORM_FAILURES: "填写信息多次失败",
    HandoffReason.RULE: "规则转人工",
    HandoffReason.BOT_UNAVAILABLE: "智能助手暂时不可用",
}

STATUS_LABELS: dict[str, str] = {
    HandoffStatus.QUEUED: "排队中",
    HandoffStatus.ACTIVE: "服务中",
    HandoffStatus.RETURNED: "已交回机器人",
    HandoffStatus.CLOSED: "已结束",
    HandoffStatus.ABANDONED: "客户已离开",
    HandoffStatus.TICKET: "客户改为留言",
}

ALERT_KIND_LABELS: dict[str, str] = {
    "chat_wait": "排队超时",
    "chat_first_response": "首次响应超时",
    "overdue": "工单逾期",
    "lookup_locked": "工单查询已锁定",
}
