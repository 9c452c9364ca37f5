"""Every sentence the gateway itself says to a customer (Simplified Chinese), in one place."""

from __future__ import annotations

import math

from handoff.rating import MAX_SCORE, MIN_SCORE, rating_payload

BOT_UNAVAILABLE = (
    "抱歉，智能助手暂时无法回复。您的消息已经保存，助手恢复后会按顺序回复您，等待过久将为您转接人工客服；"
    "紧急问题请拨打客服热线 400-800-1234。"
)
BOT_UNAVAILABLE_HANDED_OVER = "智能助手仍然无法回复，已为您转接人工客服，您之前的消息客服都能看到。"
BACK_TO_BOT = "已为您返回智能助手。请问还有什么可以帮您？"
BOT_IS_SERVING = "当前由智能助手为您服务，请直接输入您的问题；需要人工服务请发送「转人工」。"
AGENT_HANDED_BACK = "人工客服已结束本次服务，接下来由智能助手继续为您服务。"
AGENT_CLOSED = f"本次人工服务已结束，感谢您的耐心。请为本次服务打分（{MIN_SCORE}–{MAX_SCORE} 分）。"
RATING_THANKS = "感谢您的评价！"
RATING_NOT_PENDING = "当前没有需要评价的服务。"
RATING_REFUSED = "评价未被接受：请使用本次服务结束时收到的评分按钮。"
UNSUPPORTED_MESSAGE = "抱歉，目前只能处理文字消息，请用文字描述您的问题。"
HANDOFFS_TOO_OFTEN = "转人工的请求过于频繁，请稍后再试；您可以继续向智能助手提问，或留言提交工单。"

KEEP_WAITING = "/griddesk_keep_waiting"
LEAVE_MESSAGE = "/griddesk_leave_message"
BACK_TO_BOT_PAYLOAD = "/griddesk_back_to_bot"

QUEUE_BUTTONS = [
    {"title": "继续等待", "payload": KEEP_WAITING},
    {"title": "留言（提交工单）", "payload": LEAVE_MESSAGE},
    {"title": "返回智能助手", "payload": BACK_TO_BOT_PAYLOAD},
]


def rating_buttons(token: str) -> list[dict[str, str]]:
    """The close notice's 1–5 buttons, each carrying the one-time rating token (``handoff.rating``)."""
    return [
        {"title": f"{score} 分", "payload": rating_payload(score, token)} for score in range(MIN_SCORE, MAX_SCORE + 1)
    ]


# the gateway's own buttons by payload (the chat page's status bar sends them too): how a press is shown
BUTTON_TITLES = {button["payload"]: button["title"] for button in QUEUE_BUTTONS} | {
    # a rating press as the transcript keeps it: its one-time token stripped first (gateway/inbox.py)
    f'/griddesk_rate{{"score": {score}}}': f"{score} 分"
    for score in range(MIN_SCORE, MAX_SCORE + 1)
}


def message_too_long(max_chars: int) -> str:
    return f"消息过长，请分几次发送（每条最多 {max_chars} 个字）。"


def too_long_label(chars: int) -> str:
    """How a refused, over-long message is kept in the transcript (its text is not)."""
    return f"[过长的消息：{chars} 字，未发送]"


def wait_phrase(eta_seconds: int | None) -> str:
    if eta_seconds is None:
        return "请稍候"
    if eta_seconds < 60:
        return "预计等待不到 1 分钟"
    return f"预计等待约 {math.ceil(eta_seconds / 60)} 分钟"


def queued(grid_name: str, position: int | None, eta_seconds: int | None) -> str:
    ahead = max((position or 1) - 1, 0)
    place = f"您前面还有 {ahead} 位客户" if ahead else "您已排在第一位"
    return (
        f"已为您转接「{grid_name}」的人工客服。{place}，{wait_phrase(eta_seconds)}。"
        "您可以继续等待，也可以留言或返回智能助手。"
    )


def still_queued(position: int | None, eta_seconds: int | None) -> str:
    ahead = max((position or 1) - 1, 0)
    place = f"您前面还有 {ahead} 位客户" if ahead else "您已排在第一位"
    return f"您的消息已收到，人工客服接入后会看到。{place}，{wait_phrase(eta_seconds)}。"


def agent_joined(agent_name: str) -> str:
    return f"人工客服 {agent_name} 为您服务。"


def transferred_to_grid(grid_name: str) -> str:
    return f"正在为您转接「{grid_name}」的人工客服，请稍候。"


AGENT_LEFT = "接待您的客服已离开，正在为您转接其他客服，请稍候。"


def transferred_to_agent(agent_name: str) -> str:
    return f"已为您转接人工客服 {agent_name}。"


def bot_back(quoted: str) -> str:
    """Before the bot answers a message it missed while it was away."""
    return f"智能助手已恢复，现在回复您之前的消息：「{quoted}」"
