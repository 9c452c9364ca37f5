"""Chinese labels of conversation values: who wrote a message and the channel a customer writes from."""

from __future__ import annotations

from conversations.models import Author

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
