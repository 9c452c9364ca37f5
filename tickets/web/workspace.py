"""The staff's tickets workspace API (``/api/v1/console/tickets…``): the pages ``/console/tickets`` read it.

A staff login only (agents, grid managers, admins; CSRF on unsafe methods), scoped to the person's grids:
a ticket of another grid is **404** ``ticket_not_found``, exactly like a number that names nothing, on every
route (list, read, reveal, move, comment, assign, approve, transcript), so nobody learns it exists.

- The list: filters (grid, state or ``open``, category, priority, overdue, awaiting approval, mine, text),
  sorted by urgency (overdue first, then the nearest step deadline), paginated; contacts masked.
- A ticket: its fields (contact masked), the assignee, the audit trail with names, the steps the service
  flow allows next, who it may be assigned to, the verified customer and the conversations it came from.
  ``…/reveal`` is the explicit, audited open of the contact (``tickets.service.reveal_contact``).
- Changes call the ticket service (``transition``, ``comment``, ``approve``, ``assign``): every change that
  can race names the ``version`` it was made against, and a stale one is **409** ``ticket_conflict`` with a
  message saying what the ticket is now; the page then shows the ticket as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from accounts.actors import actor_for_account
from accounts.directory import account_names
from accounts.models import Role
from accounts.principals import Principal
from accounts.web import require_role
from conversations.transcript import for_staff, message_dict
from griddesk.db import run_in_session, utcnow
from griddesk.fields import clean_text
from griddesk.masking import mask_name, mask_phone
from griddesk.web.json import json_response
from griddesk.web.params import after_seq, path_id
from grids.models import Grid
from tickets import access, intake, service, workspace
from tickets.labels import STATE_LABELS
from tickets.models import Category, Priority, Ticket, TicketState
from tickets.notify import notify_state_change
from tickets.web.api import (
    MAX_GRID_CHARS,
    MAX_OFFSET,
    body_of,
    check_known,
    event_json,
    int_param,
    number_of,
    ticket_json,
)
from tickets.web.api import filter_error as bad_filter

PREFIX = "/api/v1/console/tickets"
STAFF = (Role.AGENT, Role.MANAGER, Role.ADMIN)
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_TEXT_CHARS = 64
TRANSCRIPT_PAGE = 200
OPEN = "open"  # the state filter's value for every state before 已解决
FLAGS = ("true", "false")
FILTERS = frozenset(
    {"grid", "state", "category", "priority", "overdue", "awaiting_approval", "mine", "q", "limit", "offset"}
)


async def staff(request: web.Request) -> Principal:
    return await require_role(request, *STAFF)


# --- the list ------------------------------------------------------------------------------------


def _choice(query: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if value not in choices:
        raise bad_filter(name, f"必须是 {'、'.join(choices)} 之一")
    return value


def parse_list_query(query: Mapping[str, str], principal: Principal) -> service.TicketFilter:
    """The workspace's list filters from the query string (400 ``invalid_parameter`` naming a bad one)."""
    check_known(query, FILTERS)
    grid = query.get("grid") or None
    if grid is not None and len(grid) > MAX_GRID_CHARS:
        raise bad_filter("grid", "网格代码太长")
    state = _choice(query, "state", (*TicketState, OPEN))
    category = _choice(query, "category", tuple(Category))
    priority = _choice(query, "priority", tuple(Priority))
    overdue = _choice(query, "overdue", FLAGS)
    text = (query.get("q") or "").strip() or None
    if text is not None and (len(text) > MAX_TEXT_CHARS or not clean_text(text)):
        raise bad_filter("q", f"最多 {MAX_TEXT_CHARS} 个字符，不能含控制字符")
    return service.TicketFilter(
        grid=grid,
        within=access.visible_grids(principal),
        state=TicketState(state) if state and state != OPEN else None,
        open_only=state == OPEN,
        category=Category(category) if category else None,
        priority=Priority(priority) if priority else None,
        overdue=None if overdue is None else overdue == "true",
        awaiting_approval=_choice(query, "awaiting_approval", FLAGS) == "true",
        assignee_id=principal.account_id if _choice(query, "mine", FLAGS) == "true" else None,
        text=text,
        urgent_at=utcnow(),
        limit=int_param(query, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE),
        offset=int_param(query, "offset", 0, 0, MAX_OFFSET),
    )


def _person(account_id: int | None, names: Mapping[int, str]) -> dict[str, Any] | None:
    return None if account_id is None else {"id": account_id, "name": names.get(account_id, f"账号 #{account_id}")}


def card_json(ticket: Ticket, names: Mapping[int, str], now: datetime) -> dict[str, Any]:
    """A ticket in the list: its fields (contact masked), who works on it and whether it is late now."""
    return ticket_json(ticket) | {
        "assignee": _person(ticket.assignee_id, names),
        "late": workspace.is_late(ticket, now),
    }


async def list_tickets(request: web.Request) -> web.Response:
    principal = await staff(request)
    filters = parse_list_query(request.query, principal)

    def work(session: Session) -> dict[str, Any]:
        tickets, total = service.list_tickets(session, filters)
        names = account_names(session, (t.assignee_id for t in tickets if t.assignee_id is not None))
        now = filters.urgent_at or utcnow()
        return {
            "total": total,
            "limit": filters.limit,
            "offset": filters.offset,
            "now": now.isoformat(),
            "items": [card_json(t, names, now) for t in tickets],
        }

    return json_response(await run_in_session(work))


# --- one ticket ----------------------------------------------------------------------------------


def detail_json(
    session: Session, principal: Principal, ticket: Ticket, contact_in_full: bool = False
) -> dict[str, Any]:
    """Everything the ticket page shows; the contact (and the customer's phone and name) masked unless
    ``contact_in_full`` (the audited reveal)."""
    now = utcnow()
    events = service.history(session, ticket)
    actors = workspace.actor_names(session, (e.actor for e in events))
    assignable = service.assignable(session, ticket.grid_code)
    grid = session.get(Grid, ticket.grid_code)
    names = {a.id: a.display_name for a in assignable} | account_names(
        session, [ticket.assignee_id] if ticket.assignee_id is not None else []
    )
    customer = workspace.customer_of(session, ticket)
    return ticket_json(ticket, contact_in_full) | {
        "grid_name": grid.name if grid else ticket.grid_code,
        "late": workspace.is_late(ticket, now),
        "now": now.isoformat(),
        "assignee": _person(ticket.assignee_id, names),
        "events": [event_json(e) | {"actor_name": actors.get(e.actor, e.actor)} for e in events],
        "next_steps": [str(state) for state in workspace.next_steps(ticket)],
        "assignable": [{"id": a.id, "name": a.display_name, "role": str(a.role)} for a in assignable],
        "may": {
            "approve": grid is not None and access.may_approve(principal, grid),
            "assign_others": principal.is_manager_of(ticket.grid_code),
        },
        "customer": None
        if customer is None
        else {
            "id": customer.id,
            "external_id": customer.external_id,
            "name": _contact(customer.name, mask_name, contact_in_full),
            "phone": _contact(customer.phone, mask_phone, contact_in_full),
            "region": customer.region,
            "tier": customer.tier,
        },
        "conversations": [
            {
                "id": o.conversation_id,
                "channel": o.channel,
                "started_at": o.started_at.isoformat(),
                "messages": o.messages,
            }
            for o in workspace.origins(session, ticket)
        ],
    }


def _contact(value: str | None, mask: Callable[[str], str], in_full: bool) -> str | None:
    if value is None:
        return None
    return value if in_full else mask(value)


async def get_ticket(request: web.Request) -> web.Response:
    principal = await staff(request)
    number = number_of(request)
    return json_response(
        await run_in_session(
            lambda session: detail_json(session, principal, workspace.visible_ticket(session, principal, number))
        )
    )


async def reveal(request: web.Request) -> web.Response:
    """The explicit open of the contact: recorded first as a ``reveal`` event naming who asked."""
    principal = await staff(request)
    number = number_of(request)

    def work(session: Session) -> dict[str, Any]:
        workspace.visible_ticket(session, principal, number)
        ticket = service.reveal_contact(session, number, actor_for_account(principal.account_id))
        return detail_json(session, principal, ticket, contact_in_full=True)

    return json_response(await run_in_session(work))


def _check_version(ticket: Ticket, version: int) -> None:
    """A change made against another version than the ticket's is a conflict, told in terms of what the
    ticket is now (the service checks again, atomically)."""
    if version != ticket.version:
        state = STATE_LABELS[TicketState(ticket.state)]
        raise service.TicketConflict(
            f"ticket {ticket.number} is at version {ticket.version}, the change was made against {version}",
            f"这张工单刚被其他人修改过（现在是「{state}」），页面已刷新为最新内容，请确认后再操作。",
        )


async def transition(request: web.Request) -> web.Response:
    principal = await staff(request)
    number = number_of(request)
    body = await body_of(request, intake.TRANSITION_FIELDS)
    to_state, note, version = intake.target_state(body), intake.note(body), intake.required_version(body)

    def work(session: Session) -> dict[str, Any]:
        _check_version(workspace.visible_ticket(session, principal, number), version)
        actor = actor_for_account(principal.account_id)
        ticket = service.transition(session, number, to_state, actor, note, expected_version=version)
        notify_state_change(session, ticket)  # same transaction: the customer's notice exists iff the change does
        return detail_json(session, principal, ticket)

    return json_response(await run_in_session(work))


async def add_comment(request: web.Request) -> web.Response:
    principal = await staff(request)
    number = number_of(request)
    note = intake.note(await body_of(request, intake.COMMENT_FIELDS), required=True)

    def work(session: Session) -> dict[str, Any]:
        workspace.visible_ticket(session, principal, number)
        ticket = service.comment(session, number, actor_for_account(principal.account_id), note)
        return detail_json(session, principal, ticket)

    return json_response(await run_in_session(work), status=201)


async def approve(request: web.Request) -> web.Response:
    """The grid manager's approval, with a note saying why (required here)."""
    principal = await staff(request)
    number = number_of(request)
    note = intake.note(await body_of(request, intake.APPROVE_FIELDS), required=True)

    def work(session: Session) -> dict[str, Any]:
        workspace.visible_ticket(session, principal, number)  # others' tickets: not found, before anything else
        return detail_json(session, principal, service.approve(session, number, principal, note))

    return json_response(await run_in_session(work))


async def assign(request: web.Request) -> web.Response:
    principal = await staff(request)
    number = number_of(request)
    body = await body_of(request, intake.ASSIGN_FIELDS)
    assignee, version = intake.assignee(body), intake.required_version(body)

    def work(session: Session) -> dict[str, Any]:
        ticket = workspace.visible_ticket(session, principal, number)
        _check_version(ticket, version)
        access.check_assign(principal, ticket.grid_code, ticket.assignee_id, assignee)
        actor = actor_for_account(principal.account_id)
        ticket = service.assign(session, number, assignee, actor, expected_version=version)
        return detail_json(session, principal, ticket)

    return json_response(await run_in_session(work))


async def origin_messages(request: web.Request) -> web.Response:
    """The transcript of a conversation the ticket came from (no other conversation)."""
    principal = await staff(request)
    number = number_of(request)
    conversation_id = path_id(request, "conversation_id", workspace.OriginNotFound.default_message)
    after = after_seq(request)

    def work(session: Session) -> dict[str, Any]:
        ticket = workspace.visible_ticket(session, principal, number)
        messages = workspace.origin_messages(session, ticket, conversation_id, after, TRANSCRIPT_PAGE)
        return {"messages": [for_staff(message_dict(m)) for m in messages]}

    return json_response(await run_in_session(work))


def add_routes(app: web.Application) -> None:
    app.router.add_get(PREFIX, list_tickets)
    app.router.add_get(f"{PREFIX}/{{number}}", get_ticket)
    app.router.add_post(f"{PREFIX}/{{number}}/reveal", reveal)
    app.router.add_post(f"{PREFIX}/{{number}}/transition", transition)
    app.router.add_post(f"{PREFIX}/{{number}}/comments", add_comment)
    app.router.add_post(f"{PREFIX}/{{number}}/approve", approve)
    app.router.add_post(f"{PREFIX}/{{number}}/assign", assign)
    app.router.add_get(f"{PREFIX}/{{number}}/conversations/{{conversation_id}}/messages", origin_messages)
