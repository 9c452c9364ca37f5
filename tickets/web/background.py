"""The tickets feature's background work in the gateway (``app.cleanup_ctx`` entries).

- ``overdue_watch``: every ``GRIDDESK_WATCH_SECONDS``, mark tickets past their step deadline and alert grid
  managers (``tickets.watch``).
- ``ticket_news``: every ``NEWS_SECONDS``, read the audit trail's new events and publish them on the live
  hub (``TICKETS_TOPIC``: ``{"type": "tickets", "changes": [{"number", "grid", "kind"}]}``); the console
  websocket forwards each person the changes of their grids, so open workspaces and boards update without
  a reload. Reading the trail (one indexed ``max(id)`` read when nothing happened) sees every change,
  whichever process made it: this gateway, another replica, the action server opening a ticket in chat,
  the overdue watch.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from aiohttp import web

from conversations.hub import TICKETS_TOPIC, hub_key
from griddesk.db import run_in_session, session_scope, utcnow
from griddesk.web.keys import settings_key
from griddesk.web.tasks import background, periodic
from tickets.watch import WatchReport, check_overdue
from tickets.workspace import TicketChange, changes_after, latest_event_id

NEWS_SECONDS = 1.0

log = logging.getLogger(__name__)


def _overdue_pass() -> WatchReport:
    with session_scope() as session:
        return check_overdue(session, utcnow())


async def _watch_overdue(_app: web.Application) -> None:
    report = await asyncio.to_thread(_overdue_pass)
    if report.marked_overdue or report.alerts:
        log.info("overdue watch: %d marked overdue, %d alerts", report.marked_overdue, report.alerts)


overdue_watch = periodic("overdue watch", _watch_overdue, lambda app: app[settings_key].watch_seconds)


def news_event(changes: list[TicketChange]) -> dict[str, object]:
    return {
        "type": "tickets",
        "changes": [{"number": c.number, "grid": c.grid_code, "kind": c.kind} for c in changes],
    }


async def _publish_news(app: web.Application) -> None:
    hub = app[hub_key]
    last: int | None = None  # news from the start on: what happened before, the pages read when they open
    while True:
        try:
            if last is None:
                last = await run_in_session(latest_event_id)
            else:
                last, changes = await run_in_session(partial(changes_after, after=last))
                if changes:
                    # every gateway process reads the trail: each tells its own clients only
                    hub.publish_local(TICKETS_TOPIC, news_event(changes))
        except Exception:
            log.exception("ticket news failed; retrying next interval")
        await asyncio.sleep(NEWS_SECONDS)


ticket_news = background("ticket news", _publish_news)
