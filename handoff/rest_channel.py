"""Rasa's REST channel protocol, spoken to customers: ``POST /webhooks/rest/webhook``.

Body ``{"sender": str, "message": str, "metadata"?: object}``; reply: a list of
``{"recipient_id", "text" | "buttons" | "custom" | "image" …}`` exactly as Rasa answers, so any
existing Rasa REST client works unchanged. Every message is recorded in the transcript; the bot is
asked only while it owns the conversation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from griddesk.db import session_scope
from handoff import messages
from handoff.errors import ApiError
from handoff.http import json_response
from handoff.models import Author, MessageStatus, Owner
from handoff.rasa_client import BotUnavailable
from handoff.transcript import append_messages, get_or_create_conversation, set_status, transcript
from handoff.typedefs import rasa_key, settings_key

log = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
SEQ_HEADER = "X-GridDesk-Seq"
HISTORY_LIMIT = 200
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Incoming:
    sender: str
    text: str
    metadata: dict[str, Any] | None


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


@dataclass(frozen=True)
class Recorded:
    conversation_id: int
    message_id: int
    seq: int
    owner: Owner


def _record_incoming(incoming: Incoming) -> Recorded:
    """Store the customer's message; returns where it went and who owns the conversation."""
    with session_scope() as session:
        conversation = get_or_create_conversation(session, incoming.sender)
        [message] = append_messages(
            session, conversation.id, [(Author.CUSTOMER, incoming.text, None, MessageStatus.RECEIVED)]
        )
        return Recorded(conversation.id, message.id, message.seq, Owner(conversation.owner))


def _record_replies(recorded: Recorded, replies: list[dict[str, Any]], status: MessageStatus,
                    author: Author) -> list[int]:
    """Mark the customer's message answered (or not) and store what was sent back; returns the seqs."""
    with session_scope() as session:
        set_status(session, recorded.message_id, status)
        stored = append_messages(
            session,
            recorded.conversation_id,
            [(author, r.get("text") if isinstance(r.get("text"), str) else None, r, MessageStatus.SENT)
             for r in replies],
        )
        return [m.seq for m in stored]


def _seq_header(recorded: Recorded, reply_seqs: list[int]) -> dict[str, str]:
    """Which transcript entries this exchange wrote, so a page that also polls history shows each once."""
    return {SEQ_HEADER: ",".join(str(s) for s in [recorded.seq, *reply_seqs])}


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    incoming = await parse_incoming(request, settings.max_message_chars)
    recorded = await asyncio.to_thread(_record_incoming, incoming)
    if recorded.owner is not Owner.BOT:
        # A human owns (or is about to own) the conversation: the bot stays silent.
        notice = messages.CONVERSATION_CLOSED if recorded.owner is Owner.CLOSED else messages.WAITING_FOR_AGENT
        return json_response([{"recipient_id": incoming.sender, "text": notice}], headers=_seq_header(recorded, []))
    try:
        replies = await request.app[rasa_key].send(incoming.sender, incoming.text, incoming.metadata)
        if not replies:
            raise BotUnavailable("Rasa produced no reply")
    except BotUnavailable as exc:
        log.warning("bot unavailable for a customer message (kept as unanswered): %s", exc)
        replies = [{"recipient_id": incoming.sender, "text": messages.BOT_UNAVAILABLE}]
        seqs = await asyncio.to_thread(_record_replies, recorded, replies, MessageStatus.UNANSWERED, Author.SYSTEM)
        return json_response(replies, headers={"X-GridDesk-Degraded": "bot-unavailable",
                                               **_seq_header(recorded, seqs)})
    seqs = await asyncio.to_thread(_record_replies, recorded, replies, MessageStatus.ANSWERED, Author.BOT)
    return json_response(replies, headers=_seq_header(recorded, seqs))


def _history(sender: str, after: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [
            {"seq": m.seq, "author": str(m.author), "text": m.text, "payload": m.payload,
             "created_at": m.created_at.isoformat()}
            for m in transcript(session, sender, after_seq=after, limit=HISTORY_LIMIT)
        ]


async def history(request: web.Request) -> web.Response:
    """``GET /webhooks/rest/history?sender=…&after=N``: the customer's own conversation after seq N.

    The sender id is the customer's only credential here, as in Rasa's REST channel: web clients
    use a random UUID kept in the browser, so nobody can name another customer's conversation.
    """
    sender = request.query.get("sender", "")
    if not sender.strip() or len(sender) > MAX_SENDER_CHARS or _FORBIDDEN_CONTROL.search(sender):
        raise ApiError(422, "invalid_sender", "sender 必须是非空字符串, 不超过 128 个字符")
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise ApiError(400, "invalid_after", "after 必须是整数") from None
    return json_response({"messages": await asyncio.to_thread(_history, sender.strip(), max(after, 0))})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/webhooks/rest/history", history)
