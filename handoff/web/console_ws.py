"""``GET /api/v1/console/ws``: the console's live connection.

Server → client: ``queue`` and ``chats`` snapshots (on connect and whenever they change),
``message`` for subscribed conversations, ``agent_status`` (the agent's own status changed),
``alert`` for managers, ``tickets`` (tickets of the person's
grids changed: ``changes`` = ``[{"number", "grid", "kind"}]``, for the workspace and the board), ``pong``.
Client → server:
``subscribe {conversation_id, after}`` sends every message after ``after`` and then live ones, so a
console that reconnects with the last seq it saw loses and repeats nothing; ``unsubscribe``; ``ping``.
``hello`` carries the agent's status (``agent_status``). The agent console connects with ``?serve=1``:
that connection marks the agent seen (present, so waiting customers may be given to them) on connecting
and at every keep-alive. Login and the gateway's own Origin are required (a page on another site cannot open it with the
agent's cookie).

The connection lives only as long as the login it was opened with: it re-checks the login every
``KEEP_ALIVE_SECONDS`` (without extending it: an open console is not activity) and at once when this
process ends a login of the account (``accounts.web.session_news``), and closes with
``SESSION_ENDED`` (4401) after a logout, a disabled account, a new password or the login's expiry;
the console then finds it is logged out and goes to the login page. A subscribed conversation that
leaves the person's read scope (``access.can_read_conversation``) is dropped with ``unsubscribed``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.orm import Session

from accounts.models import Role
from accounts.principals import Principal
from accounts.sessions import check_session
from accounts.web import SESSION_ENDED_EVENT, require_role, same_origin, session_token
from conversations.hub import ALERTS_TOPIC, QUEUE_TOPIC, TICKETS_TOPIC, account_topic, conversation_topic, hub_key
from conversations.transcript import for_staff
from griddesk.db import run_in_session, utcnow
from griddesk.web.errors import ApiError
from grids.models import Agent
from handoff.assignment import touch_agent
from handoff.live import assign_free_agents, publish_queue_change
from handoff.web.access import STAFF, can_read_conversation
from handoff.web.console_api import chats_snapshot, messages_after, queue_snapshot

log = logging.getLogger(__name__)
MAX_FRAME_BYTES = 4096
KEEP_ALIVE_SECONDS = 30.0  # how often the login is re-checked and the agent marked as seen
SESSION_ENDED = 4401  # close code: the login this connection was opened with has ended


class ConsoleConnection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, principal: Principal, token: str) -> None:
        self.request = request
        self.ws = ws
        self.principal = principal
        self.token = token
        # the agent console, where chats are served (``?serve=1``), marks its agent present; the board
        # and the tickets workspace use the same connection without handing their user customers
        self.serving = request.query.get("serve") == "1"
        self.subscription = request.app[hub_key].subscribe(
            [QUEUE_TOPIC, TICKETS_TOPIC, account_topic(principal.account_id)]
        )
        if principal.role in (Role.MANAGER, Role.ADMIN):
            self.subscription.add(ALERTS_TOPIC)
        self.last_seq: dict[int, int] = {}  # conversation id → last seq sent
        self.send_lock = asyncio.Lock()
        self.recheck = asyncio.Event()  # set when logins of this account ended somewhere in this process

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

    async def may_read(self, conversation_id: int) -> bool:
        principal = self.principal
        return await run_in_session(
            partial(can_read_conversation, principal=principal, conversation_id=conversation_id)
        )

    async def drop(self, conversation_id: int) -> None:
        """Stop sending a conversation this person may no longer read (it moved to another grid)."""
        self.subscription.discard(conversation_topic(conversation_id))
        self.last_seq.pop(conversation_id, None)
        await self.send(
            {
                "type": "unsubscribed",
                "conversation_id": conversation_id,
                "code": "forbidden",
                "message": "这个会话已不属于您的网格，不再推送新消息。",
            }
        )

    async def subscribe(self, conversation_id: object, after: object) -> None:
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            await self.send(
                {"type": "error", "code": "invalid_subscribe", "message": "会话编号（conversation_id）必须是整数。"}
            )
            return
        after = after if isinstance(after, int) and not isinstance(after, bool) and after >= 0 else 0

        if not await self.may_read(conversation_id):
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
                if not await self.may_read(conversation_id):  # the one read scope, for every live message
                    await self.drop(conversation_id)
                    continue
                if seq > last + 1:
                    await self.catch_up(conversation_id)  # fills the gap, including this one
                else:
                    self.last_seq[conversation_id] = seq
                    await self.send({**event, "message": for_staff(event["message"])})
            elif kind == "alert":
                grid = event["alert"].get("grid")
                if self.principal.role is Role.ADMIN or grid in self.principal.grid_codes:
                    await self.send(event)
            elif kind == "tickets":
                mine = [change for change in event["changes"] if self.principal.can_serve(change["grid"])]
                if mine:  # another grid's ticket numbers never reach this person
                    await self.send({"type": "tickets", "changes": mine})
            elif kind == "agent_status":  # the agent's status changed (another tab, a login elsewhere)
                await self.send(event)
            elif kind == SESSION_ENDED_EVENT:
                self.recheck.set()
            elif kind == "status":
                continue  # customers' queue status: the console has its own snapshots

    async def _woken(self) -> bool:
        """Wait for the next check: True when told logins of the account ended, False when it is time."""
        try:
            await asyncio.wait_for(self.recheck.wait(), KEEP_ALIVE_SECONDS)
        except TimeoutError:
            return False
        self.recheck.clear()
        return True

    async def keep_alive(self) -> None:
        """Re-check the login and mark the agent seen; returns once the login has ended."""
        while True:
            woken = await self._woken()
            principal = await run_in_session(partial(check_session, token=self.token, now=utcnow()))
            if principal is None:
                return
            if principal != self.principal:
                await self.refresh(principal)
            if not woken and self.serving:
                await run_in_session(lambda session: touch_agent(session, self.principal.account_id, utcnow()))

    async def read_client(self) -> None:
        async for frame in self.ws:
            if frame.type is WSMsgType.TEXT:
                await self.handle_client(frame.data)
            elif frame.type is WSMsgType.ERROR:
                break

    async def refresh(self, principal: Principal) -> None:
        """The person's role or grids changed while connected: what they see follows."""
        self.principal = principal
        if principal.role in (Role.MANAGER, Role.ADMIN):
            self.subscription.add(ALERTS_TOPIC)
        else:
            self.subscription.discard(ALERTS_TOPIC)
        await self.send_snapshots()


def _present(session: Session, account_id: int, serving: bool) -> str | None:
    """Mark the agent seen when this is the chat console (``grids.agent_status.is_present``); their
    status, or None for staff who serve no chats."""
    if serving:
        touch_agent(session, account_id, utcnow())
    agent = session.get(Agent, account_id)
    return str(agent.status) if agent is not None else None


async def console_ws(request: web.Request) -> web.WebSocketResponse:
    if not same_origin(request):
        raise ApiError(403, "forbidden_origin", "只能从 GridDesk 控制台页面连接")
    principal = await require_role(request, *STAFF)
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_FRAME_BYTES * 4)
    await ws.prepare(request)
    connection = ConsoleConnection(request, ws, principal, session_token(request))
    forward = asyncio.create_task(connection.forward_events())
    login = asyncio.create_task(connection.keep_alive())
    tasks = [forward, login]
    try:
        status = await run_in_session(partial(_present, account_id=principal.account_id, serving=connection.serving))
        await connection.send(
            {
                "type": "hello",
                "account": {"id": principal.account_id, "name": principal.display_name, "role": str(principal.role)},
                "agent_status": status,
            }
        )
        await connection.send_snapshots()
        if connection.serving:  # the agent is at the console now: customers waiting may go to them at once
            assigned = await assign_free_agents(request.app, principal.grid_codes)
            if assigned:
                await publish_queue_change(request.app, sorted(assigned))
        reading = asyncio.create_task(connection.read_client())
        tasks.append(reading)
        # until the console goes away or the login ends (then the read is cancelled, so the close below
        # is the only reader and waits for the console's answer: a clean close with SESSION_ENDED)
        # (or until the hub ends its event stream — far behind, or a broken link between gateway processes —
        # then the console reconnects and catches up)
        await asyncio.wait([reading, login, forward], return_when=asyncio.FIRST_COMPLETED)
    except (ConnectionResetError, RuntimeError) as exc:
        log.debug("console connection ended: %s", exc)
    finally:
        connection.subscription.close()
        ended = login.done() and not login.cancelled() and login.exception() is None
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, Exception) and not isinstance(outcome, (ConnectionResetError, RuntimeError)):
                log.error("console connection failed", exc_info=outcome)
        if ended:
            await ws.close(code=SESSION_ENDED, message=b"session ended")
        await ws.close()
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/console/ws", console_ws)
