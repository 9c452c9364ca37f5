"""The console's customer history (客户档案): ``GET /api/v1/console/customers/{customer_id}``.

A verified customer's record (the phone masked, 138****8000, as everywhere staff did not open a ticket),
their conversations on every device and channel (id, channel, started,
owner, last message) and their tickets (number, state, category, created). Staff only; agents and
grid managers see the customers served in their grids (``handoff.web.access``), admins everyone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from griddesk.db import run_in_session
from griddesk.masking import mask_phone
from griddesk.web.json import json_response
from griddesk.web.params import path_id
from handoff.customer_history import CustomerHistory, customer_history
from handoff.web.access import check_customer_visible, staff

NOT_FOUND = "找不到该客户。"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def history_dict(history: CustomerHistory) -> dict[str, Any]:
    customer = history.customer
    return {
        "customer": {
            "id": customer.id,
            "external_id": customer.external_id,
            "name": customer.name,
            "phone": mask_phone(customer.phone) if customer.phone else customer.phone,  # as in ticket lists
            "region": customer.region,
            "tier": customer.tier,
            "first_seen_at": _iso(customer.first_seen_at),
            "last_seen_at": _iso(customer.last_seen_at),
        },
        "conversations": [
            {
                "id": c.conversation_id,
                "channel": c.channel,
                "started_at": _iso(c.started_at),
                "owner": c.owner,
                "agent_name": c.agent_name,
                "last_message": {
                    "text": c.last_message_text,
                    "author": c.last_message_author,
                    "at": _iso(c.last_message_at),
                }
                if c.last_message_at is not None
                else None,
            }
            for c in history.conversations
        ],
        "tickets": [
            {
                "number": t.number,
                "state": t.state,
                "category": t.category,
                "grid": t.grid_code,
                "created_at": _iso(t.created_at),
            }
            for t in history.tickets
        ],
    }


async def get_customer(request: web.Request) -> web.Response:
    principal = await staff(request)
    customer_id = path_id(request, "customer_id", NOT_FOUND)

    def work(session: Session) -> dict[str, Any]:
        history = customer_history(session, customer_id)  # unknown: 404 before any scope question
        check_customer_visible(session, principal, customer_id)
        return history_dict(history)

    return json_response(await run_in_session(work))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/console/customers/{customer_id}", get_customer)
