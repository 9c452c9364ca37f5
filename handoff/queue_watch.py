"""The queue watch: every few seconds, one sweep (``handoff.sweep``) and the news it makes.

Long waits overflow to the overflow grid (the customer is told), customers who left are released,
chat SLA alerts reach the managers' consoles, agents whose logins expired go offline, the chats of
agents who left go back to the queue (the customer is told), and free agents are given the customers
who wait.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from conversations.live import publish_messages
from conversations.models import Conversation, Message
from conversations.notices import tell_customer
from griddesk.db import session_scope, utcnow
from griddesk.web.keys import settings_key
from griddesk.web.tasks import periodic
from grids.models import Grid
from handoff import messages
from handoff.live import (
    assign_free_agents,
    publish_alerts,
    publish_queue_change,
    publish_status,
)
from handoff.models import Handoff
from handoff.sweep import sweep
from handoff.web.serialize import alert_dict
from tickets.models import Alert

log = logging.getLogger(__name__)


@dataclass
class News:
    told: list[tuple[int, str, list[Message]]] = field(default_factory=list)  # conversation, sender, messages
    alerts: list[dict[str, Any]] = field(default_factory=list)
    grids: set[str] = field(default_factory=set)


def sweep_once() -> News:
    news = News()
    with session_scope() as session:
        report = sweep(session, utcnow())
        for handoff_id in report.overflowed:
            handoff = session.get_one(Handoff, handoff_id)
            grid = session.get_one(Grid, handoff.grid_code)
            conversation = session.get_one(Conversation, handoff.conversation_id)
            stored = tell_customer(session, conversation.id, messages.transferred_to_grid(grid.name))
            news.told.append((conversation.id, conversation.sender_id, stored))
            news.grids.add(grid.code)
        for handoff_id in report.requeued:
            handoff = session.get_one(Handoff, handoff_id)
            conversation = session.get_one(Conversation, handoff.conversation_id)
            stored = tell_customer(session, conversation.id, messages.AGENT_LEFT)
            news.told.append((conversation.id, conversation.sender_id, stored))
            news.grids.add(handoff.grid_code)
        for handoff_id in report.abandoned:
            news.grids.add(session.get_one(Handoff, handoff_id).grid_code)
        news.alerts = [alert_dict(session.get_one(Alert, alert_id)) for alert_id in report.alerts]
        news.grids.update(report.signed_out)
        session.flush()
        for _conversation_id, _sender, stored in news.told:
            for message in stored:
                session.expunge(message)
    if report.overflowed or report.abandoned or report.alerts or report.requeued:
        log.info(
            "queue sweep: %d overflowed, %d abandoned, %d alerts, %d requeued (agent left)",
            len(report.overflowed),
            len(report.abandoned),
            len(report.alerts),
            len(report.requeued),
        )
    return news


async def publish(app: web.Application, news: News) -> None:
    for conversation_id, sender, stored in news.told:
        publish_messages(app, conversation_id, stored)
        await publish_status(app, sender, conversation_id)
    if news.grids:
        await publish_queue_change(app, sorted(news.grids))
    publish_alerts(app, news.alerts)


async def sweep_and_publish(app: web.Application) -> None:
    news = await asyncio.to_thread(sweep_once)
    news.grids.update(await assign_free_agents(app, None))  # whoever is free takes whoever waits
    await publish(app, news)


# ``app.cleanup_ctx`` entry: one sweep every GRIDDESK_QUEUE_SWEEP_SECONDS while the gateway runs.
queue_watch = periodic("queue sweep", sweep_and_publish, lambda app: app[settings_key].queue_sweep_seconds)
