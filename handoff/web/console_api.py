"""The agent console's API (``/api/v1/console/…``): queue, chats, handoff packet, replies, transfer,
hand back, close, ticket from chat, knowledge-base search, canned replies, the manager's view.

Every route needs a logged-in agent, grid manager or admin (``accounts.web``; unsafe methods also a
CSRF token); a handoff is visible to the members of its grid, its agent and admins. The queue
service (``handoff.queue``) does the work in a thread; its errors become HTTP errors only here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, Role
from accounts.principals import Principal
from accounts.web import require_role
from griddesk.db import run_in_session, session_scope, utcnow
from grids.models import AgentStatus, Grid
from grids.routing import NoGrid
from handoff import messages
from handoff.canned import canned_replies
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from handoff.labels import REASON_LABELS
from conversations.live import publish_messages
from handoff.live import publish_queue_change, publish_status
from conversations.models import Author, Conversation, Message
from handoff.models import Handoff
from conversations.notices import tell_customer
from handoff.ownership import (
    AlreadyTaken,
    AtCapacity,
    HandoffNotFound,
    InvalidTransition,
    NotAssigned,
    NotInGrid,
)
from handoff.proposals import propose_from_handoff
from handoff.queue import (
    AgentNotFound,
    InvalidTransfer,
    accept,
    agent_loads,
    close,
    grid_queue,
    hand_back,
    handoff_view,
    my_chats,
    record_agent_message,
    set_agent_status,
    transfer,
)
from handoff.web.serialize import alert_dict, chat_dict, load_dict, queue_item_dict
from handoff.sweep import AlertNotFound, acknowledge_alert, open_alerts
from tickets.web import parse_new_ticket
from conversations.transcript import message_dict
from griddesk.web.keys import settings_key
from knowledge_base.web.keys import kb_key
from knowledge_base.search import QueryError
from tickets import service as tickets
from tickets.service import TicketError

T = TypeVar("T")
STAFF = (Role.AGENT, Role.MANAGER, Role.ADMIN)
MAX_BODY_BYTES = 16 * 1024
MAX_NOTE_CHARS = 500
PAGE = 200

_ERRORS: dict[type[Exception], tuple[int, str]] = {
    HandoffNotFound: (404, "找不到该会话"),
    AlreadyTaken: (409, "该会话已被其他客服接入"),
    AtCapacity: (409, "您的接待量已满, 请先结束或转出一个会话"),
    NotInGrid: (403, "您不属于该会话所在的网格"),
    NotAssigned: (409, "该会话不由您接待"),
    InvalidTransition: (409, "会话当前的状态不允许这个操作"),
    InvalidTransfer: (422, "无法转接到这个目标 (不能转给自己或离线的客服, 网格需存在)"),
    AgentNotFound: (404, "找不到该客服"),
}


async def _staff(request: web.Request) -> Principal:
    return await require_role(request, *STAFF)


async def _run(work: Callable[[Session], T]) -> T:
    """Run ``work`` in one short session in a thread; domain errors become HTTP errors."""
    try:
        return await run_in_session(work)
    except tuple(_ERRORS) as exc:
        status, message = _ERRORS[type(exc)]
        raise ApiError(status, getattr(exc, "code", "conflict"), message) from None


async def _body(request: web.Request) -> dict[str, Any]:
    return await read_json_object(request, MAX_BODY_BYTES)


def _text(body: dict[str, Any], name: str, max_chars: int, required: bool = False) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"{name} 必须是字符串")
    value = value.strip()
    if required and not value:
        raise ApiError(422, "invalid_field", f"{name} 不能为空")
    if len(value) > max_chars:
        raise ApiError(422, "invalid_field", f"{name} 太长, 最多 {max_chars} 个字符")
    return value


def _int_path(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "not_found", "找不到该会话")
    return int(raw)


def _actor(principal: Principal) -> str:
    return f"account:{principal.account_id}"


def _grids(principal: Principal) -> list[str] | None:
    """The grids whose queues this person sees (None = all, for admins)."""
    return None if principal.role is Role.ADMIN else list(principal.grid_codes)


def _check_visible(session: Session, principal: Principal, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HandoffNotFound(handoff_id)
    if principal.role is Role.ADMIN or handoff.grid_code in principal.grid_codes \
            or handoff.agent_id == principal.account_id:
        return handoff
    raise ApiError(403, "forbidden", "这个会话不属于您的网格")


# --- views --------------------------------------------------------------------------------------


def queue_snapshot(principal: Principal) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [queue_item_dict(item) for item in grid_queue(session, _grids(principal), utcnow())]


def chats_snapshot(principal: Principal) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [chat_dict(chat) for chat in my_chats(session, principal.account_id)]


async def get_queue(request: web.Request) -> web.Response:
    principal = await _staff(request)
    return json_response({"items": await asyncio.to_thread(queue_snapshot, principal)})


async def get_chats(request: web.Request) -> web.Response:
    principal = await _staff(request)
    return json_response({"items": await asyncio.to_thread(chats_snapshot, principal)})


def messages_after(session: Session, conversation_id: int, after: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq).limit(PAGE)
    )
    return [message_dict(m) for m in rows]


async def get_handoff(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")

    def work(session: Session) -> dict[str, Any]:
        _check_visible(session, principal, handoff_id)
        view = handoff_view(session, handoff_id)
        return {
            "handoff_id": view.handoff_id, "conversation_id": view.conversation_id, "status": str(view.status),
            "grid": {"code": view.grid_code, "name": view.grid_name}, "reason": str(view.reason),
            "reason_label": REASON_LABELS.get(str(view.reason), str(view.reason)), "packet": view.packet,
            "agent": {"id": view.agent_id, "name": view.agent_name} if view.agent_id else None,
            "events": view.events, "messages": messages_after(session, view.conversation_id, 0),
        }

    return json_response(await _run(work))


def can_read_conversation(session: Session, principal: Principal, conversation_id: int) -> bool:
    """Staff read a conversation that was handed to their grid or to them (admins: any)."""
    if principal.role is Role.ADMIN:
        return True
    query = select(Handoff.id).where(Handoff.conversation_id == conversation_id)
    grids = list(principal.grid_codes)
    mine = Handoff.agent_id == principal.account_id
    return session.scalar(query.where(Handoff.grid_code.in_(grids) | mine).limit(1)) is not None


async def get_messages(request: web.Request) -> web.Response:
    principal = await _staff(request)
    conversation_id = _int_path(request, "conversation_id")
    try:
        after = max(int(request.query.get("after", "0")), 0)
    except ValueError:
        raise ApiError(400, "invalid_after", "after 必须是整数") from None

    def work(session: Session) -> list[dict[str, Any]]:
        if not can_read_conversation(session, principal, conversation_id):
            raise ApiError(403, "forbidden", "这个会话不属于您的网格")
        return messages_after(session, conversation_id, after)

    return json_response({"messages": await _run(work)})


async def _after_change(request: web.Request, conversation_id: int, grids: list[str] | None,
                        told: list[Message]) -> None:
    publish_messages(request.app, conversation_id, told)
    await publish_queue_change(request.app, grids)
    sender = await asyncio.to_thread(_sender_of, conversation_id)
    if sender:
        await publish_status(request.app, sender, conversation_id)


def _sender_of(conversation_id: int) -> str | None:
    with session_scope() as session:
        return session.scalar(select(Conversation.sender_id).where(Conversation.id == conversation_id))


def _detach(messages_: list[Message], session: Session) -> list[Message]:
    for message in messages_:
        session.expunge(message)
    return messages_


async def post_accept(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")

    def work(session: Session) -> tuple[dict[str, Any], str, list[Message]]:
        _check_visible(session, principal, handoff_id)
        chat = accept(session, handoff_id, principal.account_id, utcnow())
        told = tell_customer(session, chat.conversation_id, messages.agent_joined(principal.display_name))
        return chat_dict(chat), chat.grid_code, _detach(told, session)

    body, grid, told = await _run(work)
    await _after_change(request, body["conversation_id"], [grid], told)
    return json_response(body)


async def post_message(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")
    text = _text(await _body(request), "text", request.app[settings_key].max_message_chars, required=True)

    def work(session: Session) -> tuple[int, Message]:
        _check_visible(session, principal, handoff_id)
        message = record_agent_message(session, handoff_id, principal.account_id, text, utcnow())
        session.flush()
        session.expunge(message)
        return message.conversation_id, message

    conversation_id, message = await _run(work)
    publish_messages(request.app, conversation_id, [message])
    await publish_queue_change(request.app, None, chats_only=True)
    return json_response({"seq": message.seq}, status=201)


async def post_transfer(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")
    body = await _body(request)
    note = _text(body, "note", MAX_NOTE_CHARS)
    to_grid, to_agent = body.get("grid"), body.get("agent_id")
    if (to_grid is None) == (to_agent is None):
        raise ApiError(422, "invalid_target", "请选择一个转接目标: 网格 (grid) 或客服 (agent_id), 二选一")
    if to_grid is not None and (not isinstance(to_grid, str) or len(to_grid) > 64):
        raise ApiError(422, "invalid_target", "grid 必须是网格代码")
    if to_agent is not None and (not isinstance(to_agent, int) or isinstance(to_agent, bool)):
        raise ApiError(422, "invalid_target", "agent_id 必须是整数")

    def work(session: Session) -> tuple[int, list[str], list[Message]]:
        handoff = _check_visible(session, principal, handoff_id)
        from_grid = handoff.grid_code
        if to_grid is not None:
            grid = session.get(Grid, to_grid)
            if grid is None:
                raise ApiError(422, "invalid_target", "没有这个网格")
            transfer(session, handoff_id, principal.account_id, utcnow(), to_grid=to_grid, note=note)
            text = messages.transferred_to_grid(grid.name)
            grids = [from_grid, to_grid]
        else:
            target = session.get(Account, to_agent)
            if target is None:
                raise ApiError(422, "invalid_target", "没有这个客服")
            transfer(session, handoff_id, principal.account_id, utcnow(), to_agent_id=to_agent, note=note)
            text = messages.transferred_to_agent(target.display_name)
            grids = [from_grid]
        told = tell_customer(session, handoff.conversation_id, text)
        return handoff.conversation_id, grids, _detach(told, session)

    conversation_id, grids, told = await _run(work)
    await _after_change(request, conversation_id, grids, told)
    return json_response({"status": "transferred"})


async def post_hand_back(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")
    note = _text(await _body(request), "note", MAX_NOTE_CHARS)

    def work(session: Session) -> tuple[int, str, list[Message]]:
        handoff = _check_visible(session, principal, handoff_id)
        hand_back(session, handoff_id, principal.account_id, utcnow(), note)
        propose_from_handoff(session, handoff_id)
        told = tell_customer(session, handoff.conversation_id, messages.AGENT_HANDED_BACK)
        return handoff.conversation_id, handoff.grid_code, _detach(told, session)

    conversation_id, grid, told = await _run(work)
    await _after_change(request, conversation_id, [grid], told)
    return json_response({"status": "returned"})


async def post_close(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")

    def work(session: Session) -> tuple[int, str, list[Message]]:
        handoff = _check_visible(session, principal, handoff_id)
        close(session, handoff_id, principal.account_id, utcnow())
        propose_from_handoff(session, handoff_id)
        told = tell_customer(session, handoff.conversation_id, messages.AGENT_CLOSED, messages.RATING_BUTTONS)
        return handoff.conversation_id, handoff.grid_code, _detach(told, session)

    conversation_id, grid, told = await _run(work)
    await _after_change(request, conversation_id, [grid], told)
    return json_response({"status": "closed"})


def ticket_draft(session: Session, handoff: Handoff) -> dict[str, Any]:
    """The fields of a ticket from this chat, pre-filled from the packet and the transcript."""
    packet = handoff.packet or {}
    slots = packet.get("slots") or {}
    draft = packet.get("draft_ticket") or {}
    profile = {**(session.get(Conversation, handoff.conversation_id).profile or {}), **(packet.get("profile") or {})}
    said = session.scalars(
        select(Message.text).where(Message.conversation_id == handoff.conversation_id,
                                   Message.author == Author.CUSTOMER, Message.text.is_not(None))
        .order_by(Message.seq.desc()).limit(5)
    ).all()
    customer_text = [t for t in reversed(said) if not t.startswith("/")]
    return {
        "category": draft.get("category") or slots.get("ticket_category") or "consultation",
        "description": draft.get("description") or slots.get("ticket_description") or packet.get("summary")
        or " / ".join(customer_text)[:1000],
        "contact_phone": draft.get("contact_phone") or slots.get("ticket_phone") or "",
        "contact_name": draft.get("contact_name") or slots.get("ticket_name") or profile.get("name") or "",
        "region": draft.get("region") or slots.get("ticket_region") or profile.get("region") or "",
        "amount": draft.get("amount_yuan") or slots.get("ticket_amount"),
        "customer_tier": profile.get("tier") or "general",
        "ticket_number": packet.get("ticket_number"),
    }


async def get_ticket_draft(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")

    def work(session: Session) -> dict[str, Any]:
        return ticket_draft(session, _check_visible(session, principal, handoff_id))

    return json_response(await _run(work))


async def post_ticket(request: web.Request) -> web.Response:
    principal = await _staff(request)
    handoff_id = _int_path(request, "handoff_id")
    body = await _body(request)
    fields = {
        "category": body.get("category"), "description": body.get("description"),
        "contact_phone": body.get("contact_phone"), "region": body.get("region"),
        "contact_name": body.get("contact_name") or "客户", "amount_yuan": body.get("amount") or None,
        "customer_tier": body.get("customer_tier"), "actor": _actor(principal),
    }
    new, actor = parse_new_ticket({k: v for k, v in fields.items() if v is not None})

    def work(session: Session) -> tuple[str, int, list[Message]]:
        handoff = _check_visible(session, principal, handoff_id)
        sender = session.scalar(select(Conversation.sender_id).where(Conversation.id == handoff.conversation_id))
        ticket = tickets.open_ticket(session, replace(new, sender_id=sender), actor=actor)
        handoff.packet = {**handoff.packet, "ticket_number": ticket.number}
        told = tell_customer(session, handoff.conversation_id,
                              f"已为您登记工单 {ticket.number},处理进展可随时在这里查询。")
        return ticket.number, handoff.conversation_id, _detach(told, session)

    try:
        number, conversation_id, told = await _run(work)
    except TicketError as exc:
        raise ApiError(409, exc.code, "工单没能创建, 请检查内容后再试") from None
    except NoGrid:
        raise ApiError(422, "no_grid", "没有网格受理这个地区/类别的工单") from None
    publish_messages(request.app, conversation_id, told)
    return json_response({"number": number}, status=201)




async def kb_search(request: web.Request) -> web.Response:
    principal = await _staff(request)
    query = request.query.get("q", "")
    grid = request.query.get("grid") or None
    if grid is not None and principal.role is not Role.ADMIN and grid not in principal.grid_codes:
        grid = None
    try:
        result = await asyncio.to_thread(request.app[kb_key].search, query, 5, grid)
    except QueryError as exc:
        raise ApiError(400, "invalid_query", f"查询无效: {exc}") from None
    thresholds = request.app[settings_key]
    hits = []
    for rank, hit in enumerate(result.hits):
        band = str(result.decision) if rank == 0 else (
            "suggest" if hit.score >= thresholds.kb_suggest_threshold else "fallback")
        hits.append({"faq_id": hit.faq.id, "question": hit.faq.question, "answer": hit.faq.answer,
                     "score": round(hit.score, 4), "band": band})
    return json_response({"hits": hits})


async def get_canned(request: web.Request) -> web.Response:
    principal = await _staff(request)

    def work(session: Session) -> list[dict[str, Any]]:
        grids = _grids(principal)
        return [{"id": r.id, "title": r.title, "text": r.text, "grid": r.grid_code}
                for r in canned_replies(session, grids)]

    return json_response({"items": await _run(work)})


async def get_transfer_targets(request: web.Request) -> web.Response:
    await _staff(request)

    def work(session: Session) -> dict[str, Any]:
        grids = [{"code": g.code, "name": g.name} for g in session.scalars(select(Grid).order_by(Grid.code))]
        return {"grids": grids, "agents": [load_dict(load) for load in agent_loads(session, None)]}

    return json_response(await _run(work))


async def post_status(request: web.Request) -> web.Response:
    principal = await _staff(request)
    raw = (await _body(request)).get("status")
    try:
        status = AgentStatus(raw)
    except ValueError:
        raise ApiError(422, "invalid_status", "状态必须是 online、away 或 offline") from None

    def work(session: Session) -> None:
        set_agent_status(session, principal.account_id, status)

    await _run(work)
    await publish_queue_change(request.app, list(principal.grid_codes) or None)
    return json_response({"status": str(status)})


def manager_snapshot(principal: Principal) -> dict[str, Any]:
    with session_scope() as session:
        codes = _grids(principal)
        grids = session.scalars(select(Grid).where(Grid.code.in_(codes)) if codes is not None else select(Grid))
        now = utcnow()
        cards = []
        for grid in sorted(grids, key=lambda g: g.code):
            cards.append({
                "code": grid.code, "name": grid.name,
                "first_response_seconds": grid.handoff_policy().first_response_seconds,
                "queue": [queue_item_dict(i) for i in grid_queue(session, [grid.code], now)],
                "agents": [load_dict(load) for load in agent_loads(session, [grid.code])],
                "alerts": [alert_dict(a) for a in open_alerts(session, [grid.code])],
            })
        return {"grids": cards}


async def post_alert_ack(request: web.Request) -> web.Response:
    """A grid manager (or admin) has seen an SLA alert: it leaves the open list."""
    principal = await require_role(request, Role.MANAGER, Role.ADMIN)
    raw = request.match_info["alert_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "not_found", "找不到该提醒")

    def work(session: Session) -> dict[str, Any]:
        try:
            return alert_dict(acknowledge_alert(session, int(raw), _grids(principal), utcnow()))
        except AlertNotFound:
            raise ApiError(404, "not_found", "找不到该提醒 (或不属于您的网格)") from None

    body = await _run(work)
    await publish_queue_change(request.app, [body["grid"]])
    return json_response(body)


async def get_manager(request: web.Request) -> web.Response:
    principal = await require_role(request, Role.MANAGER, Role.ADMIN)
    return json_response(await asyncio.to_thread(manager_snapshot, principal))


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
    app.router.add_get(f"{prefix}/handoffs/{{handoff_id}}/ticket-draft", get_ticket_draft)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/ticket", post_ticket)
    app.router.add_get(f"{prefix}/kb/search", kb_search)
    app.router.add_get(f"{prefix}/canned-replies", get_canned)
    app.router.add_get(f"{prefix}/transfer-targets", get_transfer_targets)
    app.router.add_post(f"{prefix}/status", post_status)
    app.router.add_get(f"{prefix}/manager", get_manager)
    app.router.add_post(f"{prefix}/alerts/{{alert_id}}/ack", post_alert_ack)
