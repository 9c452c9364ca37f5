"""Rasa's REST channel protocol, spoken to customers: ``POST /webhooks/rest/webhook``.

Body ``{"sender": str, "message": str, "metadata"?: object}``; reply: a list of
``{"recipient_id", "text" | "buttons" | "custom" | "image" …}`` exactly as Rasa answers, so any
existing Rasa REST client works unchanged. ``gateway.inbox`` records every message and decides who answers;
messages from agents reach REST clients through ``GET /webhooks/rest/history`` (or the live websocket).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from griddesk.db import session_scope, utcnow
from gateway.channels import is_platform_sender
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from gateway.inbox import Incoming, inbox_key
from handoff.queue import touch_customer
from conversations.transcript import message_dict, transcript
from griddesk.web.keys import settings_key

MAX_SENDER_CHARS = 128
SEQ_HEADER = "X-GridDesk-Seq"
HISTORY_LIMIT = 200
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


async def parse_incoming(request: web.Request, max_chars: int) -> Incoming:
    """Validate a REST channel request body; raise ApiError (4xx) with a clear reason."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", "请求内容过大") from None
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "请求内容必须是 UTF-8 编码的 JSON") from None
    except json.JSONDecodeError:
        raise ApiError(400, "invalid_json", "请求内容不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", '请求内容必须是 JSON 对象: {"sender": …, "message": …}')
    sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        raise ApiError(422, "invalid_sender", "sender 必须是非空字符串")
    if len(sender) > MAX_SENDER_CHARS or _FORBIDDEN_CONTROL.search(sender):
        raise ApiError(422, "invalid_sender", f"sender 不能超过 {MAX_SENDER_CHARS} 个字符, 且不能含控制字符")
    if is_platform_sender(sender.strip()):
        raise ApiError(422, "invalid_sender", "sender 不能以 tg: 或 wecom: 开头 (这些会话属于消息渠道)")
    if not isinstance(text, str):
        raise ApiError(422, "invalid_message", "message 必须是字符串")
    if _FORBIDDEN_CONTROL.search(text):
        raise ApiError(422, "invalid_message", "消息中含有不允许的控制字符")
    if not text.strip():
        raise ApiError(422, "empty_message", "消息不能为空")
    if len(text) > max_chars:
        raise ApiError(413, "message_too_long", f"消息过长: 最多 {max_chars} 个字符")
    if metadata is not None and not isinstance(metadata, dict):
        raise ApiError(422, "invalid_metadata", "metadata 必须是 JSON 对象")
    return Incoming(sender=sender.strip(), text=text.strip(), metadata=metadata)


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    incoming = await parse_incoming(request, settings.max_message_chars)
    outcome = await request.app[inbox_key].receive(incoming)
    headers = {SEQ_HEADER: ",".join(str(s) for s in outcome.seqs)}
    if outcome.degraded:
        headers["X-GridDesk-Degraded"] = "bot-unavailable"
    return json_response(outcome.replies, headers=headers)


def _history(sender: str, after: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        touch_customer(session, sender, utcnow())
        return [message_dict(m) for m in transcript(session, sender, after_seq=after, limit=HISTORY_LIMIT)]


async def history(request: web.Request) -> web.Response:
    """``GET /webhooks/rest/history?sender=…&after=N``: the customer's own conversation after seq N.

    The sender id is the customer's only credential here, as in Rasa's REST channel: web clients
    use a random UUID kept in the browser, so nobody can name another customer's conversation.
    """
    sender = query_sender(request)
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise ApiError(400, "invalid_after", "after 必须是整数") from None
    return json_response({"messages": await asyncio.to_thread(_history, sender, max(after, 0))})


def query_sender(request: web.Request) -> str:
    """The ``sender`` query parameter of the customer endpoints, checked."""
    sender = request.query.get("sender", "")
    if not sender.strip() or len(sender) > MAX_SENDER_CHARS or _FORBIDDEN_CONTROL.search(sender):
        raise ApiError(422, "invalid_sender", "sender 必须是非空字符串, 不超过 128 个字符")
    if is_platform_sender(sender.strip()):
        raise ApiError(422, "invalid_sender", "sender 不能以 tg: 或 wecom: 开头 (这些会话属于消息渠道)")
    return sender.strip()


def add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/webhooks/rest/history", history)
