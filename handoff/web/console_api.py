"""The agent console's chat API (``/api/v1/console/…``): queue, chats, a handoff with its packet and
transcript, and what an agent does with a chat (accept, reply, transfer, hand back, close).

Every route needs a logged-in agent, grid manager or admin (``handoff.web.access``; unsafe methods also a
CSRF token); a conversation and its handoffs are readable under one scope (``access.can_read_conversation``:
while its current handoff is in one of your grids or is yours; admins always). The handoff services
do the work in a thread (``griddesk.db.run_in_session``); their errors reach the client through the one
error policy of ``griddesk.web.errors``. Tools beside the chat: ``console_tools``; the manager's view:
``manager_api``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account
from accounts.principals import Principal
from conversations.live import publish_messages
from conversations.models import Conversation, Message
from conversations.notices import tell_customer
from conversations.transcript import for_staff, message_dict
from griddesk import fields
from griddesk.db import MAX_INTEGER, run_in_session, utcnow
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from griddesk.web.keys import settings_key
from griddesk.web.params import after_seq, path_id
from grids.models import Grid
from handoff import messages
from handoff.assignment import accept, close, hand_back, handoff_view, my_chats, record_agent_message, transfer
from handoff.labels import REASON_LABELS
from handoff.live import publish_queue_change, publish_status
from handoff.proposals import propose_from_handoff
from handoff.queue import grid_queue
from handoff.web.access import can_read_conversation, not_your_grid, staff, visible_grids, visible_handoff
from handoff.web.serialize import chat_dict, customer_name, queue_item_dict

MAX_BODY_BYTES = 16 * 1024
MAX_NOTE_CHARS = 500
MAX_GRID_CHARS = 64
MAX_ID = MAX_INTEGER  # database ids; larger numbers name nothing
PAGE = 200
NOT_FOUND = "找不到该会话。"


async def body_of(request: web.Request) -> dict[str, Any]:
    return await read_json_object(request, MAX_BODY_BYTES)


def handoff_id_of(request: web.Request) -> int:
    return path_id(request, "handoff_id", NOT_FOUND)


def detach(stored: list[Message], session: Session) -> list[Message]:
    """Messages usable after the session closes (published once it has committed)."""
    for message in stored:
        session.expunge(message)
    return stored


# --- reading ------------------------------------------------------------------------------------


def queue_snapshot(session: Session, principal: Principal) -> list[dict[str, Any]]:
    return [queue_item_dict(item) for item in grid_queue(session, visible_grids(principal), utcnow())]


def chats_snapshot(session: Session, principal: Principal) -> list[dict[str, Any]]:
    return [chat_dict(chat) for chat in my_chats(session, principal.account_id)]


def messages_after(session: Session, conversation_id: int, after: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq)
        .limit(PAGE)
    )
    return [for_staff(message_dict(m)) for m in rows]


async def get_queue(request: web.Request) -> web.Response:
    principal = await staff(request)
    return json_response({"items": await run_in_session(lambda s: queue_snapshot(s, principal))})


async def get_chats(request: web.Request) -> web.Response:
    principal = await staff(request)
    return json_response({"items": await run_in_session(lambda s: chats_snapshot(s, principal))})


async def get_handoff(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)

    def work(session: Session) -> dict[str, Any]:
        visible_handoff(session, principal, handoff_id)
        view = handoff_view(session, handoff_id)
        return {
            "handoff_id": view.handoff_id,
            "conversation_id": view.conversation_id,
            "customer": customer_name(view.conversation_id, view.profile),
            "status": str(view.status),
            "grid": {"code": view.grid_code, "name": view.grid_name},
            "reason": str(view.reason),
            "reason_label": REASON_LABELS.get(str(view.reason), str(view.reason)),
            "packet": view.packet,
            "agent": {"id": view.agent_id, "name": view.agent_name} if view.agent_id else None,
            "customer_id": view.customer_id,
            "events": view.events,
            "question": view.question,
            "messages": messages_after(session, view.conversation_id, 0),
        }

    return json_response(await run_in_session(work))


async def get_messages(request: web.Request) -> web.Response:
    principal = await staff(request)
    conversation_id = path_id(request, "conversation_id", NOT_FOUND)
    after = after_seq(request)

    def work(session: Session) -> list[dict[str, Any]]:
        if not can_read_conversation(session, principal, conversation_id):
            raise not_your_grid()
        return messages_after(session, conversation_id, after)

    return json_response({"messages": await run_in_session(work)})


# --- what an agent does with a chat -------------------------------------------------------------


async def after_change(
    request: web.Request, conversation_id: int, grids: list[str] | None, told: list[Message]
) -> None:
    """Tell the customer's sockets, the consoles and the waiting customers what changed."""
    publish_messages(request.app, conversation_id, told)
    await publish_queue_change(request.app, grids)
    sender = await run_in_session(
        lambda s: s.scalar(select(Conversation.sender_id).where(Conversation.id == conversation_id))
    )
    if sender:
        await publish_status(request.app, sender, conversation_id)


async def post_accept(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)

    def work(session: Session) -> tuple[dict[str, Any], str, list[Message]]:
        visible_handoff(session, principal, handoff_id)
        chat = accept(session, handoff_id, principal.account_id, utcnow())
        told = tell_customer(session, chat.conversation_id, messages.agent_joined(principal.display_name))
        return chat_dict(chat), chat.grid_code, detach(told, session)

    body, grid, told = await run_in_session(work)
    await after_change(request, body["conversation_id"], [grid], told)
    return json_response(body)


async def post_message(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)
    text = fields.text(
        await body_of(request), "text", "回复内容", max_chars=request.app[settings_key].max_message_chars, required=True
    )

    def work(session: Session) -> tuple[int, Message]:
        visible_handoff(session, principal, handoff_id)
        message = record_agent_message(session, handoff_id, principal.account_id, text, utcnow())
        session.flush()
        session.expunge(message)
        return message.conversation_id, message

    conversation_id, message = await run_in_session(work)
    publish_messages(request.app, conversation_id, [message])
    await publish_queue_change(request.app, None, chats_only=True)
    return json_response({"seq": message.seq}, status=201)


def _transfer_target(body: dict[str, Any]) -> tuple[str | None, int | None]:
    to_grid, to_agent = body.get("grid"), body.get("agent_id")
    if (to_grid is None) == (to_agent is None):
        raise ApiError(422, "invalid_target", "请选择一个转接目标：网格或同事，只能选一个。", field="grid")
    if to_grid is not None and (not isinstance(to_grid, str) or not to_grid or len(to_grid) > MAX_GRID_CHARS):
        raise ApiError(422, "invalid_target", "转接的网格无效，请从列表中选择。", field="grid")
    if to_agent is not None and (
        not isinstance(to_agent, int) or isinstance(to_agent, bool) or not 0 < to_agent < MAX_ID
    ):
        raise ApiError(422, "invalid_target", "转接的同事无效，请从列表中选择。", field="agent_id")
    return to_grid, to_agent


async def post_transfer(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)
    body = await body_of(request)
    note = fields.text(body, "note", "转接备注", max_chars=MAX_NOTE_CHARS)
    to_grid, to_agent = _transfer_target(body)

    def work(session: Session) -> tuple[int, list[str], list[Message]]:
        handoff = visible_handoff(session, principal, handoff_id)
        from_grid = handoff.grid_code
        if to_grid is not None:
            grid = session.get(Grid, to_grid)
            if grid is None:
                raise ApiError(422, "invalid_target", "没有这个网格。", field="grid")
            transfer(session, handoff_id, principal.account_id, utcnow(), to_grid=to_grid, note=note)
            text = messages.transferred_to_grid(grid.name)
            grids = [from_grid, to_grid]
        else:
            target = session.get(Account, to_agent)
            if target is None:
                raise ApiError(422, "invalid_target", "没有这位同事。", field="agent_id")
            transfer(session, handoff_id, principal.account_id, utcnow(), to_agent_id=to_agent, note=note)
            text = messages.transferred_to_agent(target.display_name)
            grids = [from_grid]
        told = tell_customer(session, handoff.conversation_id, text)
        return handoff.conversation_id, grids, detach(told, session)

    conversation_id, grids, told = await run_in_session(work)
    await after_change(request, conversation_id, grids, told)
    return json_response({"status": "transferred"})


async def post_hand_back(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)
    note = fields.text(await body_of(request), "note", "备注", max_chars=MAX_NOTE_CHARS)

    def work(session: Session) -> tuple[int, str, list[Message]]:
        handoff = visible_handoff(session, principal, handoff_id)
        hand_back(session, handoff_id, principal.account_id, utcnow(), note)
        propose_from_handoff(session, handoff_id)
        told = tell_customer(session, handoff.conversation_id, messages.AGENT_HANDED_BACK)
        return handoff.conversation_id, handoff.grid_code, detach(told, session)

    conversation_id, grid, told = await run_in_session(work)
    await after_change(request, conversation_id, [grid], told)
    return json_response({"status": "returned"})


async def post_close(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)

    def work(session: Session) -> tuple[int, str, list[Message]]:
        handoff = visible_handoff(session, principal, handoff_id)
        token = close(session, handoff_id, principal.account_id, utcnow())
        propose_from_handoff(session, handoff_id)
        told = tell_customer(session, handoff.conversation_id, messages.AGENT_CLOSED, messages.rating_buttons(token))
        return handoff.conversation_id, handoff.grid_code, detach(told, session)

    conversation_id, grid, told = await run_in_session(work)
    await after_change(request, conversation_id, [grid], told)
    return json_response({"status": "closed"})


def add_routes(app: web.Application) -> None:
    prefix = "/api/v1/console"
    app.router.add_get(f"{prefix}/queue", get_queue)
    app.router.add_get(f"{prefix}/chats", get_chats)
    app.router.add_get(f"{prefix}/handoffs/{{handoff_id}}", get_handoff)
    app.router.add_get(f"{prefix}/conversations/{{conversation_id}}/messages", get_messages)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/accept", post_accept)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/messages", post_message)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/transfer", post_transfer)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/hand-back", post_hand_back)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/close", post_close)
