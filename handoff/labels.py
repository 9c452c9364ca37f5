"""Chinese labels of handoff values, for the consoles (served by ``GET /api/v1/console/labels``)."""

from __future__ import annotations

from accounts.actors import BOT, CUSTOMER, SYSTEM
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

# the bot's intents (bot/domain.yml), as the packet panel names the last one
INTENT_LABELS: dict[str, str] = {
    "greet": "问候",
    "goodbye": "告别",
    "thank": "致谢",
    "affirm": "肯定",
    "deny": "否定",
    "request_human": "要求转人工",
    "create_ticket": "提交工单",
    "check_ticket": "查询工单",
    "complain": "投诉",
    "chitchat": "闲聊",
    "out_of_scope": "超出服务范围",
    "ask_faq": "咨询常见问题",
    "choose_faq": "选择推荐问题",
    "none_of_these": "推荐问题都不是",
    "faq_feedback": "答案反馈",
    "inform": "提供信息",
    "cancel": "取消",
    "change_ticket_field": "修改工单信息",
}

# who changed a conversation's owner, when it was not a person on the staff (accounts/actors.py)
ACTOR_LABELS: dict[str, str] = {
    CUSTOMER: "客户",
    BOT: "智能助手",
    SYSTEM: "系统",
}
