"""Rasa's REST channel protocol, spoken to customers: ``POST /webhooks/rest/webhook``.

Body ``{"sender": str, "message": str, "metadata"?: object}``; reply: a list of
``{"recipient_id", "text" | "buttons" | "custom" | "image" …}`` exactly as Rasa answers, so any
existing Rasa REST client works unchanged. ``gateway.inbox`` records every message and decides who answers;
messages from agents reach REST clients through ``GET /webhooks/rest/history`` (or the live websocket).

The **conversation key** (``conversations.keys``): our chat page sends ``X-GridDesk-Key: new`` with its
first message and gets the key in the response's ``X-GridDesk-Key``; from then on every call about that
conversation (webhook, history, status, rating: the header; the live socket: the subprotocol
``griddesk.key.<key>`` beside ``griddesk.live``) must present it (403 ``conversation_key_required`` /
``conversation_key_invalid``). Clients that never ask for a key work as with Rasa.

Both count against the customer limits (``griddesk.web.ratelimit``): ``429 rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from conversations.keys import check_key, new_key
from conversations.transcript import message_dict, transcript
from gateway.channels import is_platform_sender
from gateway.inbox import Incoming, inbox_key
from griddesk.db import run_in_session, utcnow
from griddesk.fields import clean_text
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from griddesk.web.keys import settings_key
from griddesk.web.params import after_seq, check_sender
from griddesk.web.ratelimit import client_address, customer_limits, enforce
from handoff.queue import touch_customer

MAX_BODY_BYTES = 256 * 1024
SEQ_HEADER = "X-GridDesk-Seq"
HISTORY_LIMIT = 200
KEY_HEADER = "X-GridDesk-Key"
NEW_KEY = "new"  # the request value that asks for a key
LIVE_PROTOCOL = "griddesk.live"  # the live socket's subprotocol; the key rides beside it as KEY_PROTOCOL + key
KEY_PROTOCOL = "griddesk.key."


async def parse_incoming(request: web.Request, max_chars: int) -> Incoming:
    """Validate a REST channel request body; raise ApiError (4xx) with a clear reason."""
    body = await read_json_object(request, MAX_BODY_BYTES, empty_ok=False)
    sender = web_sender(request, body.get("sender"))
    text, metadata = body.get("message"), body.get("metadata")
    if not isinstance(text, str):
        raise ApiError(422, "invalid_message", "消息（message）必须是文字。", field="message")
    if not clean_text(text):
        raise ApiError(422, "invalid_message", "消息中含有不允许的控制字符。", field="message")
    if not text.strip():
        raise ApiError(422, "empty_message", "消息不能为空。", field="message")
    if len(text) > max_chars:
        raise ApiError(413, "message_too_long", f"消息过长：最多 {max_chars} 个字符。", field="message")
    if metadata is not None and not isinstance(metadata, dict):
        raise ApiError(422, "invalid_metadata", "附加信息（metadata）必须是 JSON 对象。", field="metadata")
    return Incoming(sender=sender, text=text.strip(), metadata=metadata, address=client_address(request))


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    incoming = await parse_incoming(request, settings.max_message_chars)
    key = None
    if request.headers.get(KEY_HEADER) == NEW_KEY:  # our chat page's first message: bind the conversation
        key, hashed = new_key()
        incoming = dataclasses.replace(incoming, key_hash=hashed)  # bound as the message is recorded
    else:
        await require_key(request, incoming.sender)
    outcome = await request.app[inbox_key].receive(incoming)
    headers = {SEQ_HEADER: ",".join(str(s) for s in outcome.seqs)}
    if key is not None:
        headers[KEY_HEADER] = key
        headers["Cache-Control"] = "no-store"
    if outcome.degraded:
        headers["X-GridDesk-Degraded"] = "bot-unavailable"
    return json_response(outcome.replies, headers=headers)


def _history(session: Session, sender: str, after: int) -> list[dict[str, Any]]:
    touch_customer(session, sender, utcnow())
    return [message_dict(m) for m in transcript(session, sender, after_seq=after, limit=HISTORY_LIMIT)]


async def history(request: web.Request) -> web.Response:
    """``GET /webhooks/rest/history?sender=…&after=N``: the customer's own conversation after seq N (with the
    conversation key when it has one).

    The sender id is the customer's credential here, as in Rasa's REST channel: web clients must use a
    random id (``griddesk.web.params.is_random_id``, e.g. a UUID kept in the browser), so nobody can guess
    another customer's conversation.
    """
    sender = query_sender(request)
    after = after_seq(request)
    await enforce(customer_limits(request.app).reads(client_address(request), sender))
    await require_key(request, sender)
    return json_response({"messages": await run_in_session(lambda session: _history(session, sender, after))})


def web_sender(request: web.Request, value: object, status: int = 422) -> str:
    """A web client's sender id: a random id (``check_sender``; Rasa's 1–128 characters with
    GRIDDESK_LEGACY_SENDER_IDS) and never a messaging app's conversation."""
    sender = check_sender(value, status, legacy=request.app[settings_key].legacy_sender_ids)
    if is_platform_sender(sender):
        raise ApiError(
            status,
            "invalid_sender",
            "会话标识（sender）不能以 tg: 或 wecom: 开头（这些会话属于消息渠道）。",
            field="sender",
        )
    return sender


def query_sender(request: web.Request) -> str:
    """The ``sender`` query parameter of the customer endpoints, checked."""
    return web_sender(request, request.query.get("sender", ""))


async def require_key(request: web.Request, sender: str, presented: str | None = None) -> None:
    """Refuse (403) a call about ``sender``'s conversation without its key; ``presented`` defaults to the
    ``X-GridDesk-Key`` header."""
    key = request.headers.get(KEY_HEADER) if presented is None else presented
    await run_in_session(lambda session: check_key(session, sender, key))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/webhooks/rest/history", history)
