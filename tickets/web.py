"""The tickets API for agents and consoles: list, open, look at, move, comment on and approve tickets.

``/api/v1/tickets…`` is protected by the API token (``griddesk.web.auth``) until agent login exists; the
``actor`` in each body is recorded in the audit trail as given. Request bodies are checked here
(with the shared field parsers of ``tickets.fields``); the ticket service does the work in a thread,
inside one short session, and its errors become HTTP errors only here, at the edge.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from griddesk.db import run_in_session, session_scope, utcnow
from griddesk.web.keys import settings_key
from griddesk.web.tasks import periodic
from grids.routing import NoGrid
from griddesk.web.auth import require_api_token
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from tickets import service
from tickets.fields import (
    InvalidField,
    normalize_phone,
    parse_amount,
    parse_description,
    parse_name,
    parse_region,
)
from tickets.models import Category, Priority, Ticket, TicketEvent, TicketState
from tickets.notify import notify_state_change
from tickets.watch import WatchReport, check_overdue

T = TypeVar("T")

MAX_BODY_BYTES = 16 * 1024
MAX_ACTOR_CHARS = 128
MAX_NOTE_CHARS = 2000
MAX_GRID_CHARS = 64
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
CUSTOMER_TIERS = ("general", "key", "prospect")  # 一般客户 · 重要客户 · 潜在客户 (DOMAIN.md)
LIST_FILTERS = frozenset({"grid", "state", "priority", "overdue", "limit", "offset"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Why a field was refused, by the ``reason`` of ``tickets.fields.InvalidField``.
_REASONS = {
    "not_text": "必须是字符串",
    "invalid_phone": "不是有效的手机号或带区号的固定电话",
    "invalid_name": "须为 1–32 个字符, 且不能含数字",
    "invalid_region": "须为 2–64 个字符并含中文地名, 如「成都市武侯区」",
    "description_too_short": "太短, 至少 4 个字",
    "description_too_long": "太长, 最多 1000 个字",
    "invalid_amount": "须为大于 0 且小于 1 亿的人民币金额, 如 5000 或 \"5000.50\"",
}

_SERVICE_ERRORS: dict[type[service.TicketError], tuple[int, str]] = {
    service.TicketNotFound: (404, "找不到该工单"),
    service.TransitionNotAllowed: (409, "工单当前状态不允许这一步"),
    service.TicketConflict: (409, "工单已被他人修改, 请刷新后重试"),
    service.ApprovalRequired: (409, "金额达到审批线, 须由网格经理审批后才能办结"),
    service.NotApprover: (403, "只有工单所属网格的网格经理可以审批"),
}

log = logging.getLogger(__name__)


# --- JSON out ----------------------------------------------------------------------------------


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    amount = ticket.amount_yuan
    return {
        "number": ticket.number,
        "category": str(ticket.category),
        "description": ticket.description,
        "contact_phone": ticket.contact_phone,
        "contact_name": ticket.contact_name,
        "region": ticket.region,
        "amount_yuan": None if amount is None else f"{Decimal(amount):.2f}",
        "customer_tier": ticket.customer_tier,
        "grid": ticket.grid_code,
        "priority": str(ticket.priority),
        "state": str(ticket.state),
        "needs_approval": bool(ticket.needs_approval),
        "approved_by": ticket.approved_by,
        "step_due_at": _iso(ticket.step_due_at),
        "resolve_due_at": _iso(ticket.resolve_due_at),
        "overdue": bool(ticket.overdue),
        "version": ticket.version,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
    }


def event_json(event: TicketEvent) -> dict[str, Any]:
    return {"at": _iso(event.at), "actor": event.actor, "kind": event.kind, "from_state": event.from_state,
            "to_state": event.to_state, "note": event.note}


def _detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    """A ticket with its audit trail, oldest event first."""
    return ticket_json(ticket) | {"events": [event_json(e) for e in service.history(session, ticket)]}


# --- the service, in a thread ------------------------------------------------------------------


async def _run(work: Callable[[Session], T]) -> T:
    """Run ``work`` in a thread inside one session (committed on success); map service errors."""
    try:
        return await run_in_session(work)
    except service.TicketError as exc:
        status, message = _SERVICE_ERRORS.get(type(exc), (409, "无法完成对工单的操作"))
        if isinstance(exc, service.TransitionNotAllowed):
            message = f"{message}: {exc}"
        raise ApiError(status, exc.code, message) from None
    except NoGrid:
        raise ApiError(422, "no_grid", "没有网格受理该地区、客户群体和类别的工单, 请联系管理员配置兜底网格") from None


# --- JSON in -----------------------------------------------------------------------------------


def _invalid(field: str, why: str) -> ApiError:
    return ApiError(422, "invalid_field", f"字段 {field} 无效: {why}")


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"请求内容过大: 最多 {MAX_BODY_BYTES // 1024} KB")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def _read_object(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The request body as a JSON object with only ``allowed`` keys; ``ApiError`` otherwise."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large() from None
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise ApiError(400, "invalid_json", "请求内容必须是 UTF-8 编码的有效 JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "请求内容必须是 JSON 对象")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(unknown[0][:64], f"未知字段; 可用字段: {', '.join(sorted(allowed))}")
    return body


def _text(body: dict[str, Any], field: str, max_chars: int, required: bool = True) -> str:
    """A trimmed, non-empty string without control characters (``""`` when optional and absent)."""
    value = body.get(field)
    if value is None:
        if required:
            raise _invalid(field, "缺少必填字段")
        return ""
    if not isinstance(value, str):
        raise _invalid(field, "必须是字符串")
    value = value.strip()
    if _CONTROL.search(value):
        raise _invalid(field, "不能含控制字符")
    if required and not value:
        raise _invalid(field, "不能为空")
    if len(value) > max_chars:
        raise _invalid(field, f"太长, 最多 {max_chars} 个字符")
    return value


def _actor(body: dict[str, Any]) -> str:
    return _text(body, "actor", MAX_ACTOR_CHARS)


def _note(body: dict[str, Any], required: bool = False) -> str:
    return _text(body, "note", MAX_NOTE_CHARS, required=required)


def _parsed(body: dict[str, Any], field: str, parse: Callable[[object], T]) -> T:
    """A required field through one of the shared parsers of ``tickets.fields``."""
    if body.get(field) is None:
        raise _invalid(field, "缺少必填字段")
    try:
        return parse(body[field])
    except InvalidField as exc:
        raise _invalid(field, _REASONS.get(exc.reason, exc.reason)) from None


def _choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if value is None:
        raise _invalid(field, "缺少必填字段")
    if not isinstance(value, str) or value not in choices:
        raise _invalid(field, f"必须是 {', '.join(choices)} 之一")
    return value


def _amount(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _invalid("amount_yuan", _REASONS["invalid_amount"])
    try:
        amount = parse_amount(str(value))
    except (InvalidField, InvalidOperation):  # parse_amount("NaN") raises InvalidOperation
        raise _invalid("amount_yuan", _REASONS["invalid_amount"]) from None
    if amount <= 0:  # "0.001" rounds to 0.00
        raise _invalid("amount_yuan", _REASONS["invalid_amount"])
    return amount


NEW_TICKET_FIELDS = frozenset({"category", "description", "contact_phone", "contact_name", "region",
                               "amount_yuan", "customer_tier", "actor"})


def parse_new_ticket(body: dict[str, Any]) -> tuple[service.NewTicket, str]:
    tier = body.get("customer_tier")
    category = Category(_choice("category", body.get("category"), tuple(Category)))
    new = service.NewTicket(
        category=category,
        description=_parsed(body, "description", parse_description),
        contact_phone=_parsed(body, "contact_phone", normalize_phone),
        contact_name=_parsed(body, "contact_name", parse_name),
        region=_parsed(body, "region", parse_region),
        amount_yuan=_amount(body.get("amount_yuan")),
        customer_tier=_choice("customer_tier", "general" if tier is None else tier, CUSTOMER_TIERS),
    )
    return new, _actor(body)


# --- views -------------------------------------------------------------------------------------


def _filter_error(name: str, why: str) -> ApiError:
    return ApiError(400, "invalid_filter", f"筛选条件 {name} 无效: {why}")


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,10}", raw) or not low <= int(raw) <= high:
        raise _filter_error(name, f"必须是 {low} 到 {high} 之间的整数")
    return int(raw)


def parse_filter(query: Mapping[str, str]) -> service.TicketFilter:
    unknown = sorted(set(query) - LIST_FILTERS)
    if unknown:
        raise _filter_error(unknown[0][:64], f"未知参数; 可用: {', '.join(sorted(LIST_FILTERS))}")
    grid = query.get("grid") or None
    if grid is not None and len(grid) > MAX_GRID_CHARS:
        raise _filter_error("grid", "网格代码太长")
    state, priority, overdue = query.get("state"), query.get("priority"), query.get("overdue")
    if state is not None and state not in tuple(TicketState):
        raise _filter_error("state", f"必须是 {', '.join(TicketState)} 之一")
    if priority is not None and priority not in tuple(Priority):
        raise _filter_error("priority", f"必须是 {', '.join(Priority)} 之一")
    if overdue is not None and overdue not in ("true", "false"):
        raise _filter_error("overdue", "必须是 true 或 false")
    return service.TicketFilter(
        grid=grid,
        state=TicketState(state) if state else None,
        priority=Priority(priority) if priority else None,
        overdue=None if overdue is None else overdue == "true",
        limit=_int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int_param(query, "offset", 0, 0, MAX_OFFSET),
    )


async def list_tickets(request: web.Request) -> web.Response:
    require_api_token(request)
    filters = parse_filter(request.query)

    def work(session: Session) -> dict[str, Any]:
        tickets, total = service.list_tickets(session, filters)
        return {"total": total, "items": [ticket_json(t) for t in tickets]}

    return json_response(await _run(work))


async def open_ticket(request: web.Request) -> web.Response:
    require_api_token(request)
    new, actor = parse_new_ticket(await _read_object(request, NEW_TICKET_FIELDS))

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.open_ticket(session, new, actor=actor))

    body = await _run(work)
    return json_response(body, status=201, headers={"Location": f"/api/v1/tickets/{body['number']}"})


async def get_ticket(request: web.Request) -> web.Response:
    require_api_token(request)
    number = request.match_info["number"]

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.get_ticket(session, number))

    return json_response(await _run(work))


async def transition(request: web.Request) -> web.Response:
    require_api_token(request)
    number = request.match_info["number"]
    body = await _read_object(request, frozenset({"to", "actor", "note", "version"}))
    to_state = TicketState(_choice("to", body.get("to"), tuple(TicketState)))
    actor, note = _actor(body), _note(body)
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise _invalid("version", "必须是正整数 (工单的 version)")

    def work(session: Session) -> dict[str, Any]:
        ticket = service.transition(session, number, to_state, actor, note, expected_version=version)
        notify_state_change(session, ticket)  # same transaction: the notice exists iff the change does
        return _detail(session, ticket)

    return json_response(await _run(work))


async def add_comment(request: web.Request) -> web.Response:
    require_api_token(request)
    number = request.match_info["number"]
    body = await _read_object(request, frozenset({"actor", "note"}))
    actor, note = _actor(body), _note(body, required=True)

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.comment(session, number, actor, note))

    return json_response(await _run(work), status=201)


async def approve(request: web.Request) -> web.Response:
    require_api_token(request)
    number = request.match_info["number"]
    body = await _read_object(request, frozenset({"actor", "note"}))
    actor, note = _actor(body), _note(body)

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.approve(session, number, actor, note))

    return json_response(await _run(work))


def _overdue_pass() -> WatchReport:
    with session_scope() as session:
        return check_overdue(session, utcnow())


async def _watch_overdue(_app: web.Application) -> None:
    report = await asyncio.to_thread(_overdue_pass)
    if report.marked_overdue or report.alerts:
        log.info("overdue watch: %d marked overdue, %d alerts", report.marked_overdue, report.alerts)


# ``app.cleanup_ctx`` entry: every GRIDDESK_WATCH_SECONDS, mark tickets past their step deadline and alert
# grid managers.
overdue_watch = periodic("overdue watch", _watch_overdue, lambda app: app[settings_key].watch_seconds)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/tickets", list_tickets)
    app.router.add_post("/api/v1/tickets", open_ticket)
    app.router.add_get("/api/v1/tickets/{number}", get_ticket)
    app.router.add_post("/api/v1/tickets/{number}/transition", transition)
    app.router.add_post("/api/v1/tickets/{number}/comments", add_comment)
    app.router.add_post("/api/v1/tickets/{number}/approve", approve)
