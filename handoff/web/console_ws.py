"""``GET /api/v1/console/ws``: the console's live connection.

Server → client: ``queue`` and ``chats`` snapshots (on connect and whenever they change),
``message`` for subscribed conversations, ``alert`` for managers, ``pong``. Client → server:
``subscribe {conversation_id, after}`` sends every message after ``after`` and then live ones, so a
console that reconnects with the last seq it saw loses and repeats nothing; ``unsubscribe``; ``ping``.
Login and the gateway's own Origin are required (a page on another site cannot open it with the
agent's cookie).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from functools import partial
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role, same_origin
from conversations.hub import ALERTS_TOPIC, QUEUE_TOPIC, conversation_topic, hub_key
from griddesk.db import run_in_session, utcnow
from griddesk.web.errors import ApiError
from handoff.assignment import touch_agent
from handoff.rating import redact_rating_tokens
from handoff.web.access import STAFF, can_read_conversation
from handoff.web.console_api import chats_snapshot, messages_after, queue_snapshot

log = logging.getLogger(__name__)
MAX_FRAME_BYTES = 4096
TOUCH_SECONDS = 30.0


class ConsoleConnection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, principal: Principal) -> None:
        self.request = request
        self.ws = ws
        self.principal = principal
        self.subscription = request.app[hub_key].subscribe([QUEUE_TOPIC])
        if principal.role in (Role.MANAGER, Role.ADMIN):
            self.subscription.add(ALERTS_TOPIC)
        self.last_seq: dict[int, int] = {}  # conversation id → last seq sent
        self.send_lock = asyncio.Lock()

    async def send(self, event: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.ws.send_json(event)

    async def send_snapshots(self, chats_only: bool = False) -> None:
        if not chats_only:
            await self.send(
                {
                    "type": "queue",
                    "items": await run_in_session(lambda session: queue_snapshot(session, self.principal)),
                }
            )
        await self.send(
            {"type": "chats", "items": await run_in_session(lambda session: chats_snapshot(session, self.principal))}
        )

    async def catch_up(self, conversation_id: int) -> None:
        """Send the messages after the last one sent (a page at a time)."""
        while True:
            after = self.last_seq[conversation_id]
            messages = await run_in_session(partial(messages_after, conversation_id=conversation_id, after=after))
            for message in messages:
                await self.send({"type": "message", "conversation_id": conversation_id, "message": message})
                self.last_seq[conversation_id] = message["seq"]
            if not messages:
                return

    async def subscribe(self, conversation_id: object, after: object) -> None:
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            await self.send(
                {"type": "error", "code": "invalid_subscribe", "message": "会话编号（conversation_id）必须是整数。"}
            )
            return
        after = after if isinstance(after, int) and not isinstance(after, bool) and after >= 0 else 0

        def allowed(session: Session) -> bool:
            return can_read_conversation(session, self.principal, conversation_id)

        if not await run_in_session(allowed):
            await self.send({"type": "error", "code": "forbidden", "message": "这个会话不属于您的网格"})
            return
        self.subscription.add(conversation_topic(conversation_id))  # before the backlog: nothing slips between
        self.last_seq[conversation_id] = after
        await self.catch_up(conversation_id)

    async def handle_client(self, frame: str) -> None:
        if len(frame) > MAX_FRAME_BYTES:
            await self.send({"type": "error", "code": "too_large", "message": "消息过大"})
            return
        try:
            command = json.loads(frame)
        except json.JSONDecodeError:
            command = None
        if not isinstance(command, dict):
            await self.send({"type": "error", "code": "invalid_json", "message": "消息必须是 JSON 对象"})
            return
        kind = command.get("type")
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "subscribe":
            await self.subscribe(command.get("conversation_id"), command.get("after"))
        elif kind == "unsubscribe" and isinstance(command.get("conversation_id"), int):
            self.subscription.discard(conversation_topic(command["conversation_id"]))
            self.last_seq.pop(command["conversation_id"], None)
        else:
            await self.send({"type": "error", "code": "unknown_type", "message": "未知的消息类型"})

    async def forward_events(self) -> None:
        async for _topic, event in self.subscription:
            kind = event["type"]
            if kind == "queue_changed":
                await self.send_snapshots(chats_only=event.get("chats_only", False))
            elif kind == "message":
                conversation_id = event["conversation_id"]
                seq = event["message"]["seq"]
                last = self.last_seq.get(conversation_id)
                if last is None or seq <= last:
                    continue
                if seq > last + 1:
                    await self.catch_up(conversation_id)  # fills the gap, including this one
                else:
                    self.last_seq[conversation_id] = seq
                    await self.send({**event, "message": redact_rating_tokens(event["message"])})
            elif kind == "alert":
                grid = event["alert"].get("grid")
                if self.principal.role is Role.ADMIN or grid in self.principal.grid_codes:
                    await self.send(event)
            elif kind == "status":
                continue  # customers' queue status: the console has its own snapshots

    async def keep_alive(self) -> None:
        while True:
            await asyncio.sleep(TOUCH_SECONDS)

            await run_in_session(lambda session: touch_agent(session, self.principal.account_id, utcnow()))


async def console_ws(request: web.Request) -> web.WebSocketResponse:
    if not same_origin(request):
        raise ApiError(403, "forbidden_origin", "只能从 GridDesk 控制台页面连接")
    principal = await require_role(request, *STAFF)
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_FRAME_BYTES * 4)
    await ws.prepare(request)
    connection = ConsoleConnection(request, ws, principal)
    forward = asyncio.create_task(connection.forward_events())
    alive = asyncio.create_task(connection.keep_alive())
    try:
        await connection.send(
            {
                "type": "hello",
                "account": {"id": principal.account_id, "name": principal.display_name, "role": str(principal.role)},
            }
        )
        await connection.send_snapshots()
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                await connection.handle_client(frame.data)
            elif frame.type is WSMsgType.ERROR:
                break
    except (ConnectionResetError, RuntimeError) as exc:
        log.debug("console connection ended: %s", exc)
    finally:
        connection.subscription.close()
        for task in (forward, alive):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError, RuntimeError):
                await task
        await ws.close()
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/console/ws", console_ws)
