"""Tools beside the agent's chat (``/api/v1/console/…``): a ticket from the chat, the knowledge base,
canned replies, transfer targets and the agent's own status."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Role
from conversations.hub import account_topic, hub_key
from conversations.live import publish_messages
from conversations.models import Conversation, Message
from conversations.notices import tell_customer
from griddesk.db import run_in_session, utcnow
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from griddesk.web.params import query_int
from grids.agent_status import is_present
from grids.labels import AGENT_STATUS_LABELS
from grids.models import Agent, AgentStatus, Grid
from handoff.assignment import set_agent_status, transfer_agents
from handoff.canned import canned_replies
from handoff.live import publish_queue_change
from handoff.ticket_draft import ticket_draft, verified_tier
from handoff.web.access import actor, staff, visible_grids, visible_handoff
from handoff.web.console_api import MAX_ID, body_of, detach, handoff_id_of
from handoff.web.serialize import load_dict
from knowledge_base.web.search_api import grid_of, search_hits
from tickets import intake
from tickets import service as tickets

CONSOLE_SEARCH_K = 5


async def get_ticket_draft(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)
    return json_response(
        await run_in_session(lambda session: ticket_draft(session, visible_handoff(session, principal, handoff_id)))
    )


async def post_ticket(request: web.Request) -> web.Response:
    principal = await staff(request)
    handoff_id = handoff_id_of(request)
    body = await body_of(request)
    values = {
        "category": body.get("category"),
        "description": body.get("description"),
        "contact_phone": body.get("contact_phone"),
        "region": body.get("region"),
        "contact_name": body.get("contact_name") or "客户",
        "amount_yuan": body.get("amount") or None,
        "customer_tier": body.get("customer_tier"),
    }
    new = intake.new_ticket({k: v for k, v in values.items() if v is not None})
    by = actor(principal)  # the logged-in agent (account:<id>), never a name from the body

    def work(session: Session) -> tuple[str, int, list[Message]]:
        handoff = visible_handoff(session, principal, handoff_id)
        sender = session.scalar(select(Conversation.sender_id).where(Conversation.id == handoff.conversation_id))
        # the verified customer's tier (priority) and the chat's grid, whatever the form sent
        tier = verified_tier(session, handoff) or new.customer_tier
        ticket = tickets.open_ticket(
            session, replace(new, sender_id=sender, customer_tier=tier, grid_code=handoff.grid_code), actor=by
        )
        handoff.packet = {**handoff.packet, "ticket_number": ticket.number}
        told = tell_customer(
            session, handoff.conversation_id, f"已为您登记工单 {ticket.number}，处理进展可随时在这里查询。"
        )
        return ticket.number, handoff.conversation_id, detach(told, session)

    number, conversation_id, told = await run_in_session(work)
    publish_messages(request.app, conversation_id, told)
    return json_response({"number": number}, status=201)


async def kb_search(request: web.Request) -> web.Response:
    principal = await staff(request)
    grid = grid_of(request)
    if grid is not None and principal.role is not Role.ADMIN and grid not in principal.grid_codes:
        grid = None
    hits = await search_hits(request, request.query.get("q", ""), CONSOLE_SEARCH_K, grid)
    return json_response({"hits": hits})


async def get_canned(request: web.Request) -> web.Response:
    principal = await staff(request)

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {"id": r.id, "title": r.title, "text": r.text, "grid": r.grid_code}
            for r in canned_replies(session, visible_grids(principal))
        ]

    return json_response({"items": await run_in_session(work)})


async def get_transfer_targets(request: web.Request) -> web.Response:
    """Where the open chat (``?handoff=<id>``) can go: every grid (its queue), and the online colleagues
    of the chat's grid. Without a chat: the online colleagues of my grids."""
    principal = await staff(request)
    handoff_id = query_int(request, "handoff", "会话编号", default=0, low=0, high=MAX_ID) or None

    def work(session: Session) -> dict[str, Any]:
        grids = [{"code": g.code, "name": g.name} for g in session.scalars(select(Grid).order_by(Grid.code))]
        if handoff_id is not None:
            handoff = visible_handoff(session, principal, handoff_id)
            agents = transfer_agents(session, handoff.grid_code, principal.account_id)
            current = handoff.grid_code
        else:
            agents = [
                load
                for code in visible_grids(principal) or []
                for load in transfer_agents(session, code, principal.account_id)
            ]
            agents = list({load.account_id: load for load in agents}.values())
            current = None
        return {"grids": grids, "current_grid": current, "agents": [load_dict(load) for load in agents]}

    return json_response(await run_in_session(work))


def _own_status(session: Session, account_id: int) -> dict[str, Any]:
    agent = session.get(Agent, account_id)
    if agent is None:
        return {"status": None, "present": False}
    return {"status": str(agent.status), "present": is_present(agent.last_seen_at, utcnow())}


async def get_status(request: web.Request) -> web.Response:
    """The agent's own status (None for staff without an agent role in any grid) and whether their
    console counts as open."""
    principal = await staff(request)
    return json_response(await run_in_session(lambda session: _own_status(session, principal.account_id)))


async def post_status(request: web.Request) -> web.Response:
    principal = await staff(request)
    raw = (await body_of(request)).get("status")
    try:
        status = AgentStatus(str(raw))
    except ValueError:
        choices = "、".join(AGENT_STATUS_LABELS.values())
        raise ApiError(422, "invalid_status", f"请选择状态：{choices}。", field="status") from None
    await run_in_session(lambda session: set_agent_status(session, principal.account_id, status, utcnow()))
    # every console of this agent shows the new status; going online may give them a waiting customer
    request.app[hub_key].publish(account_topic(principal.account_id), {"type": "agent_status", "status": str(status)})
    await publish_queue_change(request.app, list(principal.grid_codes) or None)
    return json_response({"status": str(status)})


def add_routes(app: web.Application) -> None:
    prefix = "/api/v1/console"
    app.router.add_get(f"{prefix}/handoffs/{{handoff_id}}/ticket-draft", get_ticket_draft)
    app.router.add_post(f"{prefix}/handoffs/{{handoff_id}}/ticket", post_ticket)
    app.router.add_get(f"{prefix}/kb/search", kb_search)
    app.router.add_get(f"{prefix}/canned-replies", get_canned)
    app.router.add_get(f"{prefix}/transfer-targets", get_transfer_targets)
    app.router.add_get(f"{prefix}/status", get_status)
    app.router.add_post(f"{prefix}/status", post_status)
