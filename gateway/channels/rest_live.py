"""The customer's live side: queue status, a websocket of messages and status, and the rating.

No login here: as in Rasa's REST channel the random sender id a client keeps is the credential, so a
customer reaches only their own conversation.
- ``GET /webhooks/rest/status?sender=…`` — owner, grid, queue position, estimated wait, agent, rating due.
- ``GET /webhooks/rest/live?sender=…&after=N`` — websocket: every message after ``seq`` N, then live
  messages and status changes. Reconnecting with the last seq seen loses and repeats nothing.
- ``POST /webhooks/rest/rating`` — the customer's 1–5 rating of a closed handoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from griddesk.db import session_scope, utcnow
from gateway.channels import is_platform_sender
from griddesk.web.errors import ApiError
from conversations.hub import conversation_topic
from handoff.live import customer_status, publish_status
from handoff.queue import (
    HandoffNotFound,
    touch_customer,
)
from handoff.rating import AlreadyRated, InvalidRating, rate
from gateway.channels.rest import query_sender
from conversations.transcript import get_or_create_conversation, message_dict, transcript
from conversations.hub import hub_key

log = logging.getLogger(__name__)

PAGE = 200
TOUCH_SECONDS = 30.0  # how often an open page counts as "still here" (queue abandonment)
MAX_COMMENT_CHARS = 500


async def status(request: web.Request) -> web.Response:
    sender = query_sender(request)

    def load() -> dict[str, Any]:
        with session_scope() as session:
            touch_customer(session, sender, utcnow())
        return customer_status(sender)

    return web.json_response(await asyncio.to_thread(load))


def _open(sender: str) -> int:
    with session_scope() as session:
        conversation = get_or_create_conversation(session, sender)
        conversation.customer_seen_at = utcnow()
        return conversation.id


def _page(sender: str, after: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [message_dict(m) for m in transcript(session, sender, after_seq=after, limit=PAGE)]


def _touch(sender: str) -> None:
    with session_scope() as session:
        touch_customer(session, sender, utcnow())


async def live(request: web.Request) -> web.WebSocketResponse:
    sender = query_sender(request)
    try:
        last_seq = max(int(request.query.get("after", "0")), 0)
    except ValueError:
        raise ApiError(400, "invalid_after", "after 必须是整数") from None
    ws = web.WebSocketResponse(heartbeat=25.0)
    await ws.prepare(request)
    conversation_id = await asyncio.to_thread(_open, sender)
    # Subscribe before reading the backlog, so nothing written in between is missed.
    subscription = request.app[hub_key].subscribe([conversation_topic(conversation_id)])

    async def watch_client() -> None:
        """Read until the client goes; keep marking the customer present meanwhile."""
        try:
            while True:
                try:
                    frame = await ws.receive(timeout=TOUCH_SECONDS)
                except TimeoutError:
                    await asyncio.to_thread(_touch, sender)
                    continue
                if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
        finally:
            subscription.close()

    reader = asyncio.create_task(watch_client())
    try:
        while page := await asyncio.to_thread(_page, sender, last_seq):
            for message in page:
                await ws.send_json({"type": "message", "message": message})
                last_seq = message["seq"]
        await ws.send_json({"type": "status", **await asyncio.to_thread(customer_status, sender)})
        async for _topic, event in subscription:
            if event["type"] == "message":
                if event["message"]["seq"] <= last_seq:
                    continue
                if event["message"]["seq"] > last_seq + 1:  # a gap (events raced the backlog): fill it
                    for message in await asyncio.to_thread(_page, sender, last_seq):
                        if message["seq"] < event["message"]["seq"]:
                            await ws.send_json({"type": "message", "message": message})
                last_seq = event["message"]["seq"]
                await ws.send_json({"type": "message", "message": event["message"]})
            else:
                await ws.send_json({k: v for k, v in event.items() if k != "conversation_id"})
    except (ConnectionResetError, RuntimeError) as exc:  # the client went away mid-send
        log.debug("customer live connection ended: %s", exc)
    finally:
        subscription.close()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()
    return ws


async def rating(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "invalid_json", "请求内容不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "请求内容必须是 JSON 对象")
    sender, handoff_id, score = body.get("sender"), body.get("handoff_id"), body.get("score")
    comment = body.get("comment") or ""
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 128 or is_platform_sender(sender.strip()):
        raise ApiError(422, "invalid_sender", "sender 必须是非空字符串 (不能是消息渠道的会话)")
    if not isinstance(handoff_id, int) or isinstance(handoff_id, bool):
        raise ApiError(422, "invalid_handoff", "handoff_id 必须是整数")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ApiError(422, "invalid_rating", "评分必须是 1 到 5 的整数")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
        raise ApiError(422, "invalid_comment", f"评价内容最多 {MAX_COMMENT_CHARS} 个字")
    sender = sender.strip()

    def save() -> int:
        with session_scope() as session:
            rating = rate(session, sender, handoff_id, score, comment.strip(), utcnow())
            return rating.handoff_id

    try:
        await asyncio.to_thread(save)
    except HandoffNotFound:
        raise ApiError(404, "not_found", "找不到这次需要评价的服务") from None
    except AlreadyRated:
        raise ApiError(409, "already_rated", "这次服务已经评价过了,感谢您的反馈") from None
    except InvalidRating:
        raise ApiError(422, "invalid_rating", "评分必须是 1 到 5 的整数") from None
    conversation_id = await asyncio.to_thread(_open, sender)
    await publish_status(request.app, sender, conversation_id)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/webhooks/rest/status", status)
    app.router.add_get("/webhooks/rest/live", live)
    app.router.add_post("/webhooks/rest/rating", rating)
