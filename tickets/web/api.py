"""The tickets API for staff and integrations: list, open, look at, move, comment on and approve.

Two kinds of caller, and who acts is never taken from a body (one naming ``actor`` is refused, 422):

- **Staff**, through their console login (cookie + ``X-CSRF-Token`` on unsafe methods,
  ``accounts.web``): recorded as ``account:<id>``. Agents and managers see and change the tickets of
  their grids, admins every ticket; only the ticket grid's manager approves (``tickets.access``).
- **The integration token** (``griddesk.web.auth``): recorded as ``integration:<GRIDDESK_API_TOKEN_NAME>``;
  its scope is reading (list, get: every grid) and opening tickets. Moving, commenting on and approving
  a ticket with it is refused (403 ``staff_login_required``).

A request that carries an ``Authorization`` header is judged by the token alone; one without, by its
login session. Bodies are checked by ``tickets.intake`` (field by field, Chinese labels in the messages);
the ticket service does the work in a thread inside one short session; its errors reach the client
through the one error policy of ``griddesk.web.errors``.

Contact phones and names are masked (138****8000, 张*) everywhere except in ``GET /api/v1/tickets/{number}``
— the explicit open, recorded first as a ``reveal`` event naming who asked — and in the answer to opening a
ticket (what the caller just sent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account, actor_for_integration
from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from griddesk.db import run_in_session
from griddesk.masking import mask_name, mask_phone
from griddesk.web.auth import require_api_token
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response, read_json_object
from griddesk.web.params import bad_parameter
from tickets import access, intake, service
from tickets.models import Priority, Ticket, TicketEvent, TicketState
from tickets.notify import notify_state_change
from tickets.numbers import MAX_NUMBER_CHARS

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

STAFF = (Role.AGENT, Role.MANAGER, Role.ADMIN)


# --- who is asking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is asking: a person on the staff (``principal``) or the integration token (``principal`` None)."""

    actor: str
    principal: Principal | None


async def caller(request: web.Request) -> Caller:
    """The integration token when the request has an ``Authorization`` header, else the login session.

    401 without either (or with a wrong token), 403 ``api_disabled`` for a token when none is configured,
    403 ``csrf`` for a session request without its CSRF token on an unsafe method.
    """
    if "Authorization" in request.headers:
        return Caller(actor_for_integration(require_api_token(request)), None)
    principal = await require_role(request, *STAFF)
    return Caller(actor_for_account(principal.account_id), principal)


async def staff_member(request: web.Request) -> Principal:
    """A logged-in person: moving, commenting on and approving tickets is never done with the token."""
    who = await caller(request)
    if who.principal is None:
        raise ApiError(
            403,
            "staff_login_required",
            "集成令牌只能查询和登记工单；办理、评论和审批工单须由工作人员登录控制台后操作。",
        )
    return who.principal


def _check_grid(who: Caller, ticket: Ticket) -> None:
    if who.principal is not None:
        access.check_grid(who.principal, ticket.grid_code)


# --- JSON out ----------------------------------------------------------------------------------


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def ticket_json(ticket: Ticket, contact_in_full: bool = False) -> dict[str, Any]:
    """A ticket; its contact phone and name masked unless ``contact_in_full`` (an audited open)."""
    amount = ticket.amount_yuan
    phone, name = ticket.contact_phone, ticket.contact_name
    return {
        "number": ticket.number,
        "category": str(ticket.category),
        "description": ticket.description,
        "contact_phone": phone if contact_in_full else mask_phone(phone),
        "contact_name": name if contact_in_full else mask_name(name),
        "region": ticket.region,
        "amount_yuan": None if amount is None else f"{Decimal(amount):.2f}",
        "customer_tier": ticket.customer_tier,
        "grid": ticket.grid_code,
        "priority": str(ticket.priority),
        "state": str(ticket.state),
        "needs_approval": bool(ticket.needs_approval),
        "approved_by": ticket.approved_by,
        "assignee_id": ticket.assignee_id,
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


def _detail(session: Session, ticket: Ticket, contact_in_full: bool = False) -> dict[str, Any]:
    """A ticket with its audit trail, oldest event first."""
    events = [event_json(e) for e in service.history(session, ticket)]
    return ticket_json(ticket, contact_in_full) | {"events": events}


# --- JSON in -----------------------------------------------------------------------------------


async def body_of(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The body as a JSON object with only ``allowed`` fields; one naming an ``actor`` is refused by name."""
    body = await read_json_object(request, MAX_BODY_BYTES, allowed=allowed | {intake.ACTOR_FIELD}, empty_ok=False)
    intake.refuse_actor(body)
    return body


def filter_error(name: str, why: str) -> Exception:
    return bad_parameter(name, f"筛选条件「{FILTER_LABELS.get(name, name)}」", why)


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not low <= int(raw) <= high:
        raise filter_error(name, f"必须是 {low} 到 {high} 之间的整数")
    return int(raw)


def check_known(query: Mapping[str, str], known: frozenset[str]) -> None:
    unknown = sorted(set(query) - known)
    if unknown:
        name = unknown[0][:64]
        raise bad_parameter(name, "筛选条件", f"未知参数「{name}」；可用：{'、'.join(sorted(known))}")


def parse_filter(query: Mapping[str, str]) -> service.TicketFilter:
    check_known(query, LIST_FILTERS)
    grid = query.get("grid") or None
    if grid is not None and len(grid) > MAX_GRID_CHARS:
        raise filter_error("grid", "网格代码太长")
    state, priority, overdue = query.get("state"), query.get("priority"), query.get("overdue")
    if state is not None and state not in tuple(TicketState):
        raise filter_error("state", f"必须是 {'、'.join(TicketState)} 之一")
    if priority is not None and priority not in tuple(Priority):
        raise filter_error("priority", f"必须是 {'、'.join(Priority)} 之一")
    if overdue is not None and overdue not in ("true", "false"):
        raise filter_error("overdue", "必须是 true 或 false")
    return service.TicketFilter(
        grid=grid,
        state=TicketState(state) if state else None,
        priority=Priority(priority) if priority else None,
        overdue=None if overdue is None else overdue == "true",
        limit=int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=int_param(query, "offset", 0, 0, MAX_OFFSET),
    )


# --- views -------------------------------------------------------------------------------------


async def list_tickets(request: web.Request) -> web.Response:
    who = await caller(request)
    filters = parse_filter(request.query)
    if who.principal is not None:  # staff see their grids' tickets (admins all); the token every grid's
        filters = dataclasses.replace(filters, within=access.visible_grids(who.principal))

    def work(session: Session) -> dict[str, Any]:
        tickets, total = service.list_tickets(session, filters)
        return {"total": total, "items": [ticket_json(t) for t in tickets]}

    return json_response(await run_in_session(work))


async def open_ticket(request: web.Request) -> web.Response:
    who = await caller(request)
    new = intake.new_ticket(await body_of(request, intake.NEW_TICKET_FIELDS))

    def work(session: Session) -> dict[str, Any]:
        # Anyone on the staff may register a customer's ticket; it goes to the grid that serves it. The answer
        # shows the contact as the caller just sent it.
        return _detail(session, service.open_ticket(session, new, actor=who.actor), contact_in_full=True)

    body = await run_in_session(work)
    return json_response(body, status=201, headers={"Location": f"/api/v1/tickets/{body['number']}"})


def number_of(request: web.Request) -> str:
    """The ticket number in the path; a longer one than any number can be names nothing (404)."""
    number = request.match_info["number"]
    if len(number) > MAX_NUMBER_CHARS:
        raise service.TicketNotFound()
    return number


async def get_ticket(request: web.Request) -> web.Response:
    """The explicit open: the contact in full, the view recorded first as a ``reveal`` event of who asked."""
    who = await caller(request)
    number = number_of(request)

    def work(session: Session) -> dict[str, Any]:
        _check_grid(who, service.get_ticket(session, number))
        return _detail(session, service.reveal_contact(session, number, who.actor), contact_in_full=True)

    return json_response(await run_in_session(work))


async def transition(request: web.Request) -> web.Response:
    principal = await staff_member(request)
    number = number_of(request)
    body = await body_of(request, intake.TRANSITION_FIELDS)
    to_state = intake.target_state(body)
    note, version = intake.note(body), intake.expected_version(body)

    def work(session: Session) -> dict[str, Any]:
        access.check_grid(principal, service.get_ticket(session, number).grid_code)
        ticket = service.transition(
            session, number, to_state, actor_for_account(principal.account_id), note, expected_version=version
        )
        notify_state_change(session, ticket)  # same transaction: the notice exists iff the change does
        return _detail(session, ticket)

    return json_response(await run_in_session(work))


async def add_comment(request: web.Request) -> web.Response:
    principal = await staff_member(request)
    number = number_of(request)
    note = intake.note(await body_of(request, intake.COMMENT_FIELDS), required=True)

    def work(session: Session) -> dict[str, Any]:
        access.check_grid(principal, service.get_ticket(session, number).grid_code)
        return _detail(session, service.comment(session, number, actor_for_account(principal.account_id), note))

    return json_response(await run_in_session(work), status=201)


async def approve(request: web.Request) -> web.Response:
    principal = await staff_member(request)
    number = number_of(request)
    note = intake.note(await body_of(request, intake.APPROVE_FIELDS))

    def work(session: Session) -> dict[str, Any]:
        # The approver rule includes the grid scope (the grid's own manager): anyone else gets not_approver.
        return _detail(session, service.approve(session, number, principal, note))

    return json_response(await run_in_session(work))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/tickets", list_tickets)
    app.router.add_post("/api/v1/tickets", open_ticket)
    app.router.add_get("/api/v1/tickets/{number}", get_ticket)
    app.router.add_post("/api/v1/tickets/{number}/transition", transition)
    app.router.add_post("/api/v1/tickets/{number}/comments", add_comment)
    app.router.add_post("/api/v1/tickets/{number}/approve", approve)
