"""The tickets API for agents, consoles and integrations: list, open, look at, move, comment on and approve.

``/api/v1/tickets…`` is protected by the integration API token (``griddesk.web.auth``); the ``actor`` in
each body is recorded in the audit trail as given. Bodies are checked by ``tickets.intake`` (field by
field, Chinese labels in the messages); the ticket service does the work in a thread inside one short
session; its errors reach the client through the one error policy of ``griddesk.web.errors``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from griddesk.db import run_in_session, session_scope, utcnow
from griddesk.web.auth import require_api_token
from griddesk.web.json import json_response, read_json_object
from griddesk.web.keys import settings_key
from griddesk.web.params import bad_parameter
from griddesk.web.tasks import periodic
from tickets import intake, service
from tickets.models import Priority, Ticket, TicketEvent, TicketState
from tickets.notify import notify_state_change
from tickets.numbers import MAX_NUMBER_CHARS
from tickets.watch import WatchReport, check_overdue

MAX_BODY_BYTES = 16 * 1024
MAX_GRID_CHARS = 64
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
LIST_FILTERS = frozenset({"grid", "state", "priority", "overdue", "limit", "offset"})
FILTER_LABELS = {
    "grid": "网格",
    "state": "状态",
    "priority": "优先级",
    "overdue": "是否超时",
    "limit": "每页条数",
    "offset": "起始位置",
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
    return {
        "at": _iso(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
    }


def _detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    """A ticket with its audit trail, oldest event first."""
    return ticket_json(ticket) | {"events": [event_json(e) for e in service.history(session, ticket)]}


# --- JSON in -----------------------------------------------------------------------------------


async def _body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    return await read_json_object(request, MAX_BODY_BYTES, allowed=allowed, empty_ok=False)


def _filter_error(name: str, why: str) -> Exception:
    return bad_parameter(name, f"筛选条件「{FILTER_LABELS.get(name, name)}」", why)


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not low <= int(raw) <= high:
        raise _filter_error(name, f"必须是 {low} 到 {high} 之间的整数")
    return int(raw)


def parse_filter(query: Mapping[str, str]) -> service.TicketFilter:
    unknown = sorted(set(query) - LIST_FILTERS)
    if unknown:
        name = unknown[0][:64]
        raise bad_parameter(name, "筛选条件", f"未知参数「{name}」；可用：{'、'.join(sorted(LIST_FILTERS))}")
    grid = query.get("grid") or None
    if grid is not None and len(grid) > MAX_GRID_CHARS:
        raise _filter_error("grid", "网格代码太长")
    state, priority, overdue = query.get("state"), query.get("priority"), query.get("overdue")
    if state is not None and state not in tuple(TicketState):
        raise _filter_error("state", f"必须是 {'、'.join(TicketState)} 之一")
    if priority is not None and priority not in tuple(Priority):
        raise _filter_error("priority", f"必须是 {'、'.join(Priority)} 之一")
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


# --- views -------------------------------------------------------------------------------------


async def list_tickets(request: web.Request) -> web.Response:
    require_api_token(request)
    filters = parse_filter(request.query)

    def work(session: Session) -> dict[str, Any]:
        tickets, total = service.list_tickets(session, filters)
        return {"total": total, "items": [ticket_json(t) for t in tickets]}

    return json_response(await run_in_session(work))


async def open_ticket(request: web.Request) -> web.Response:
    require_api_token(request)
    new, actor = intake.new_ticket(await _body(request, intake.NEW_TICKET_FIELDS))

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.open_ticket(session, new, actor=actor))

    body = await run_in_session(work)
    return json_response(body, status=201, headers={"Location": f"/api/v1/tickets/{body['number']}"})


def _number(request: web.Request) -> str:
    """The ticket number in the path; a longer one than any number can be names nothing (404)."""
    number = request.match_info["number"]
    if len(number) > MAX_NUMBER_CHARS:
        raise service.TicketNotFound()
    return number


async def get_ticket(request: web.Request) -> web.Response:
    require_api_token(request)
    number = _number(request)

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.get_ticket(session, number))

    return json_response(await run_in_session(work))


async def transition(request: web.Request) -> web.Response:
    require_api_token(request)
    number = _number(request)
    body = await _body(request, intake.TRANSITION_FIELDS)
    to_state = intake.target_state(body)
    actor, note = intake.actor(body), intake.note(body)
    version = intake.expected_version(body)

    def work(session: Session) -> dict[str, Any]:
        ticket = service.transition(session, number, to_state, actor, note, expected_version=version)
        notify_state_change(session, ticket)  # same transaction: the notice exists iff the change does
        return _detail(session, ticket)

    return json_response(await run_in_session(work))


async def add_comment(request: web.Request) -> web.Response:
    require_api_token(request)
    number = _number(request)
    body = await _body(request, intake.COMMENT_FIELDS)
    actor, note = intake.actor(body), intake.note(body, required=True)

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.comment(session, number, actor, note))

    return json_response(await run_in_session(work), status=201)


async def approve(request: web.Request) -> web.Response:
    require_api_token(request)
    number = _number(request)
    body = await _body(request, intake.COMMENT_FIELDS)
    actor, note = intake.actor(body), intake.note(body)

    def work(session: Session) -> dict[str, Any]:
        return _detail(session, service.approve(session, number, actor, note))

    return json_response(await run_in_session(work))


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
