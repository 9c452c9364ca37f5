"""The customer's live side: queue status, a websocket of messages and status, and the rating.

No login here: as in Rasa's REST channel the random sender id a client keeps is the credential, so a
customer reaches only their own conversation; a conversation our chat page bound to a key also needs the key
(``gateway.channels.rest``: the ``X-GridDesk-Key`` header; on the live socket the subprotocol
``griddesk.key.<key>`` offered beside ``griddesk.live``, since browsers cannot set headers on websockets).
- ``GET /webhooks/rest/status?sender=…`` — owner, grid, queue position, estimated wait, agent, rating due.
- ``GET /webhooks/rest/live?sender=…&after=N`` — websocket: every message after ``seq`` N, then live
  messages and status changes. Reconnecting with the last seq seen loses and repeats nothing. A browser
  may open it only from the gateway's own pages or a site of GRIDDESK_WIDGET_ORIGINS (``gateway.origins``).
- ``POST /webhooks/rest/rating`` — the customer's 1–5 rating of a closed handoff, with the one-time ``token``
  its close notice's rating buttons carry (``handoff.rating``).

Each counts against the customer limits (``griddesk.web.ratelimit``): reads for status and live, a
message for a rating; over them, ``429 rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.orm import Session

from conversations.hub import conversation_topic, hub_key
from conversations.transcript import get_or_create_conversation, message_dict, transcript
from gateway.channels.rest import KEY_PROTOCOL, LIVE_PROTOCOL, query_sender, require_key, web_sender
from gateway.origins import request_origin_allowed
from griddesk.db import MAX_INTEGER, run_in_session, utcnow
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from griddesk.web.keys import settings_key
from griddesk.web.params import after_seq
from griddesk.web.ratelimit import client_address, customer_limits, enforce
from handoff.live import customer_status, publish_status
from handoff.queue import touch_customer
from handoff.rating import rate

log = logging.getLogger(__name__)

PAGE = 200
TOUCH_SECONDS = 30.0  # how often an open page counts as "still here" (queue abandonment)
MAX_RATING_BYTES = 4 * 1024
MAX_ID = MAX_INTEGER


async def status(request: web.Request) -> web.Response:
    sender = query_sender(request)
    await enforce(customer_limits(request.app).reads(client_address(request), sender))
    await require_key(request, sender)

    await run_in_session(lambda session: touch_customer(session, sender, utcnow()))
    return json_response(await asyncio.to_thread(customer_status, sender))


def _open(session: Session, sender: str) -> int:
    conversation = get_or_create_conversation(session, sender)
    conversation.customer_seen_at = utcnow()
    return conversation.id


def _page(session: Session, sender: str, after: int) -> list[dict[str, Any]]:
    return [message_dict(m) for m in transcript(session, sender, after_seq=after, limit=PAGE)]


def offered_key(request: web.Request) -> str | None:
    """The conversation key a websocket client offers as the subprotocol ``griddesk.key.<key>`` (None: none)."""
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    return next((p.removeprefix(KEY_PROTOCOL) for p in offered if p.startswith(KEY_PROTOCOL)), None)


async def live(request: web.Request) -> web.WebSocketResponse:
    if not request_origin_allowed(request, request.app[settings_key].widget_origins):
        raise ApiError(403, "forbidden_origin", "此网站未获准连接在线客服。")
    sender = query_sender(request)
    last_seq = after_seq(request)
    await enforce(customer_limits(request.app).reads(client_address(request), sender))
    await require_key(request, sender, offered_key(request))
    ws = web.WebSocketResponse(heartbeat=25.0, protocols=(LIVE_PROTOCOL,))
    await ws.prepare(request)
    conversation_id = await run_in_session(lambda session: _open(session, sender))
    # Subscribe before reading the backlog, so nothing written in between is missed.
    subscription = request.app[hub_key].subscribe([conversation_topic(conversation_id)])

    async def watch_client() -> None:
        """Read until the client goes; keep marking the customer present meanwhile."""
        try:
            while True:
                try:
                    frame = await ws.receive(timeout=TOUCH_SECONDS)
                except TimeoutError:
                    await run_in_session(lambda session: touch_customer(session, sender, utcnow()))
                    continue
                if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
        finally:
            subscription.close()

    reader = asyncio.create_task(watch_client())
    try:
        while page := await run_in_session(partial(_page, sender=sender, after=last_seq)):
            for message in page:
                await ws.send_json({"type": "message", "message": message})
                last_seq = message["seq"]
        await ws.send_json({"type": "status", **await asyncio.to_thread(customer_status, sender)})
        async for _topic, event in subscription:
            if event["type"] == "message":
                if event["message"]["seq"] <= last_seq:
                    continue
                if event["message"]["seq"] > last_seq + 1:  # a gap (events raced the backlog): fill it
                    for message in await run_in_session(partial(_page, sender=sender, after=last_seq)):
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


RATING_FIELDS = frozenset({"sender", "handoff_id", "score", "comment", "token"})


async def rating(request: web.Request) -> web.Response:
    body = await read_json_object(request, MAX_RATING_BYTES, allowed=RATING_FIELDS, empty_ok=False)
    sender = web_sender(request, body.get("sender"))
    await require_key(request, sender)
    handoff_id = body.get("handoff_id")
    if not isinstance(handoff_id, int) or isinstance(handoff_id, bool) or not 0 < handoff_id < MAX_ID:
        raise ApiError(422, "invalid_handoff", "服务编号（handoff_id）必须是整数。", field="handoff_id")
    score, comment = body.get("score"), body.get("comment")  # the rating service checks both
    await enforce(customer_limits(request.app).messages(client_address(request), sender))

    def save(session: Session) -> int:
        return rate(session, sender, handoff_id, score, comment, utcnow(), token=body.get("token")).handoff_id

    await run_in_session(save)
    conversation_id = await run_in_session(lambda session: _open(session, sender))
    await publish_status(request.app, sender, conversation_id)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/webhooks/rest/status", status)
    app.router.add_get("/webhooks/rest/live", live)
    app.router.add_post("/webhooks/rest/rating", rating)
