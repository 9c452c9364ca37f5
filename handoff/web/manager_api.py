"""The grid manager's view (``/api/v1/console/manager``): each grid's queue, agent load and open SLA
alerts, and acknowledging an alert. Managers see their grids, admins every grid."""

from __future__ import annotations

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
from handoff.sweep import acknowledge_alert, open_alerts_by_grid
from handoff.web.access import manager, visible_grids
from handoff.web.serialize import alert_dict, load_dict, queue_item_dict


def manager_snapshot(session: Session, principal: Principal) -> dict[str, Any]:
    """Every visible grid's card; the queue, the agents and the alerts are each read once for all grids."""
    codes = visible_grids(principal)
    grids = session.scalars(select(Grid).where(Grid.code.in_(codes)) if codes is not None else select(Grid))
    now = utcnow()
    queue = grid_queue(session, codes, now)
    loads = agent_loads(session, codes)
    alerts = open_alerts_by_grid(session, codes)
    cards = []
    for grid in sorted(grids, key=lambda g: g.code):
        cards.append(
            {
                "code": grid.code,
                "name": grid.name,
                "first_response_seconds": grid.handoff_policy().first_response_seconds,
                "queue": [queue_item_dict(item) for item in queue if item.grid_code == grid.code],
                "agents": [load_dict(load) for load in loads if grid.code in load.grid_codes],
                "alerts": [alert_dict(alert) for alert in alerts.get(grid.code, [])],
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
