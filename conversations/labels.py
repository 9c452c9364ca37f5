"""Chinese labels of conversation values: who wrote a message, the channel a customer writes from, who answers."""

from __future__ import annotations

from conversations.models import Author, Owner

AUTHOR_LABELS: dict[str, str] = {
    Author.CUSTOMER: "客户",
    Author.BOT: "智能助手",
    Author.AGENT: "客服",
    Author.SYSTEM: "系统",
}
# conversation.channel: where the customer writes from (the agent's reply goes back the same way)
CHANNEL_LABELS: dict[str, str] = {
    "rest": "网页",
    "socketio": "网页 Webchat",
    "telegram": "Telegram",
    "wecom": "企业微信",
}
# conversation.owner: who answers the customer now (shown in a customer's history)
OWNER_LABELS: dict[str, str] = {
    Owner.BOT: "智能助手",
    Owner.QUEUED: "排队中",
    Owner.HUMAN: "人工服务中",
    Owner.CLOSED: "已结束",
}
