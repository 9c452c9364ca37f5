"""The grid manager's view (``/api/v1/console/manager``): each grid's queue, agent load, open SLA alerts
(with the ticket or chat they are about), ticket counts per state (overdue, awaiting approval) and the
customers' ratings of the last 30 days; and acknowledging an alert. Managers see their grids, admins every grid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.principals import Principal
from conversations.backlog import bot_backlog
from griddesk.db import run_in_session, utcnow
from griddesk.web.json import json_response
from griddesk.web.params import path_id
from grids.models import Grid
from handoff.dispatch import agent_loads
from handoff.live import publish_queue_change
from handoff.queue import grid_queue
from handoff.rating import RATING_WINDOW_DAYS, grid_ratings
from handoff.sweep import acknowledge_alert, open_alerts_by_grid
from handoff.web.access import manager, visible_grids
from handoff.web.serialize import alert_dict, load_dict, queue_item_dict
from tickets.models import Alert
from tickets.workspace import GridTickets, grid_ticket_counts, ticket_numbers


def tickets_dict(counts: GridTickets) -> dict[str, Any]:
    return {"by_state": counts.by_state, "overdue": counts.overdue, "awaiting_approval": counts.awaiting_approval}


def alerts_with_tickets(session: Session, alerts: list[Alert]) -> list[dict[str, Any]]:
    """The alerts, each with its ticket's number (the board links to the ticket's page)."""
    numbers = ticket_numbers(session, (a.ticket_id for a in alerts if a.ticket_id is not None))
    return [alert_dict(a, numbers.get(a.ticket_id) if a.ticket_id is not None else None) for a in alerts]


def manager_snapshot(session: Session, principal: Principal) -> dict[str, Any]:
    """Every visible grid's card; the queue, the agents and the alerts are each read once for all grids."""
    codes = visible_grids(principal)
    grids = session.scalars(select(Grid).where(Grid.code.in_(codes)) if codes is not None else select(Grid))
    now = utcnow()
    queue = grid_queue(session, codes, now)
    loads = agent_loads(session, codes)
    alerts = open_alerts_by_grid(session, codes)
    tickets = grid_ticket_counts(session, codes, now)
    ratings = grid_ratings(session, codes, now - timedelta(days=RATING_WINDOW_DAYS))
    cards = []
    for grid in sorted(grids, key=lambda g: g.code):
        cards.append(
            {
                "code": grid.code,
                "name": grid.name,
                "first_response_seconds": grid.handoff_policy().first_response_seconds,
                "queue": [queue_item_dict(item) for item in queue if item.grid_code == grid.code],
                "agents": [load_dict(load) for load in loads if grid.code in load.grid_codes],
                "alerts": alerts_with_tickets(session, alerts.get(grid.code, [])),
                "tickets": tickets_dict(tickets.get(grid.code, GridTickets())),
                "ratings": {
                    "days": RATING_WINDOW_DAYS,
                    "average": ratings[grid.code].average if grid.code in ratings else None,
                    "count": ratings[grid.code].count if grid.code in ratings else 0,
                },
            }
        )
    # what waits for the bot (an outage): counts only, the same for every manager
    return {"grids": cards, "bot_backlog": bot_backlog(session, now).to_json()}


async def get_manager(request: web.Request) -> web.Response:
    principal = await manager(request)
    return json_response(await run_in_session(lambda session: manager_snapshot(session, principal)))


async def post_alert_ack(request: web.Request) -> web.Response:
    """A grid manager (or admin) has seen an SLA alert: it leaves the open list."""
    principal = await manager(request)
    alert_id = path_id(request, "alert_id", "找不到该提醒。")
    body = await run_in_session(
        lambda session: alert_dict(acknowledge_alert(session, alert_id, visible_grids(principal), utcnow()))
    )
    await publish_queue_change(request.app, [body["grid"]])
    return json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/console/manager", get_manager)
    app.router.add_post("/api/v1/console/alerts/{alert_id}/ack", post_alert_ack)
