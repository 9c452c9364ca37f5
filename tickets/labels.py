"""Chinese labels of ticket values and fields, for everything customers and agents read (defined once)."""

from __future__ import annotations

from tickets.models import Category, Priority, TicketState

STATE_LABELS: dict[TicketState, str] = {
    TicketState.ACCEPTED: "已受理",
    TicketState.ANALYSING: "分析中",
    TicketState.IN_PROGRESS: "处理中",
    TicketState.RESOLVED: "已解决",
    TicketState.CLOSED: "已关闭",
}
PRIORITY_LABELS: dict[Priority, str] = {
    Priority.URGENT: "紧急",
    Priority.HIGH: "高",
    Priority.NORMAL: "普通",
    Priority.LOW: "低",
}

CATEGORY_LABELS: dict[Category, str] = {
    Category.CONSULTATION: "咨询",
    Category.FAULT: "故障报修",
    Category.COMPLAINT: "投诉",
    Category.SUGGESTION: "建议",
    Category.BILLING: "账务/发票",
    Category.AFTER_SALES: "售后",
    Category.REFUND: "退款/赔偿",
}
# The fields of a ticket as people name them (error messages, forms, consoles).
FIELD_LABELS: dict[str, str] = {
    "category": "问题类别",
    "description": "问题描述",
    "contact_phone": "联系电话",
    "contact_name": "联系人姓名",
    "region": "所在地区",
    "amount_yuan": "涉及金额（元）",
    "customer_tier": "客户类别",
    "actor": "操作人",
    "note": "备注",
    "to": "目标状态",
    "version": "工单版本号",
    "text": "内容",
    "number": "工单号",
    "last4": "手机号后四位",
    "assignee_id": "负责人",
}
# The kinds of the audit trail's events (``tickets.models.TicketEvent.kind``).
EVENT_KIND_LABELS: dict[str, str] = {
    "created": "登记",
    "transition": "状态变更",
    "comment": "备注",
    "approval": "审批通过",
    "assignment": "指派",
    "overdue": "超时",
    "reveal": "查看联系方式",
}
# Who did it, when it was not a person on the staff (``accounts.actors``).
ACTOR_LABELS: dict[str, str] = {
    "customer": "客户",
    "bot": "智能助手",
    "system": "系统",
}
# Why a field was refused, by the ``reason`` of ``tickets.fields.InvalidField``.
REASONS: dict[str, str] = {
    "not_text": "必须是文字",
    "invalid_phone": "不是有效的手机号或带区号的固定电话",
    "invalid_name": "须为 1–32 个字符，且不能含数字",
    "invalid_region": "须为 2–64 个字符并含中文地名，如「成都市武侯区」",
    "description_too_short": "太短，至少 4 个字",
    "description_too_long": "太长，最多 1000 个字",
    "invalid_amount": '须为大于 0 且小于 1 亿的人民币金额，如 5000 或 "5000.50"',
    "unknown_category": "无法识别的问题类别",
}
