"""The gateway application: ``create_app()`` composes every feature's routes and background work.

Features own their HTTP surface (``accounts.web``, ``knowledge_base.web``, ``tickets.web``,
``handoff.web``); the gateway adds what is its own: the customer channels, the chat page and widget,
the error and security policy at the edge, ``/healthz`` and the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from accounts import web as accounts_web
from conversations.hub import hub_key, hub_running, make_hub
from gateway import health, labels, recovery
from gateway.channels import rest, rest_live, socketio
from gateway.channels.relay import Relay, relay_key, relay_task
from gateway.channels.telegram import channel as telegram
from gateway.channels.wecom import channel as wecom
from gateway.inbox import Inbox, inbox_key
from gateway.openapi import OPENAPI
from gateway.origins import frame_ancestors
from gateway.rasa_client import RasaClient, rasa_key
from griddesk import replay
from griddesk.settings import Settings, get_settings
from griddesk.web.errors import json_errors
from griddesk.web.json import json_response
from griddesk.web.keys import settings_key
from griddesk.web.pages import PAGE_CSP, add_kit
from griddesk.web.ratelimit import counter_purge
from griddesk.web.tasks import background, periodic
from handoff import web as handoff_web
from handoff.queue_watch import queue_watch
from knowledge_base import web as knowledge_base_web
from knowledge_base.search import KnowledgeBase
from knowledge_base.web.keys import kb_key
from reports import web as reports_web
from tickets import web as tickets_web

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
# The chat page may be framed by the gateway's own pages and the sites that embed the widget
# (GRIDDESK_WIDGET_ORIGINS, gateway.origins); nothing else may be framed at all.
FRAMEABLE_PATHS = frozenset({"/"})
MAX_BODY_BYTES = 256 * 1024
REPLAY_PURGE_SECONDS = 3600.0

SERVER_NAME = "GridDesk"  # what the Server header says: no product versions for scanners to match
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        if name == "X-Frame-Options" and request.path in FRAMEABLE_PATHS:
            continue
        response.headers.setdefault(name, value)
    return response


async def name_the_server(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response the app prepares (files and websockets too, which a
    middleware sees only after their headers went out) says ``Server: GridDesk``."""
    response.headers["Server"] = SERVER_NAME


async def chat_page(request: web.Request) -> web.FileResponse:
    ancestors = frame_ancestors(request.app[settings_key].widget_origins)
    csp = PAGE_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    return web.FileResponse(
        STATIC / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp}
    )


async def openapi(_request: web.Request) -> web.Response:
    return json_response(OPENAPI)


async def _clients(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with aiohttp.ClientSession() as session:
        app[rasa_key] = RasaClient(session, settings.rasa_url, settings.rasa_timeout)
        yield


async def _warm(app: web.Application) -> None:
    """Build the search index in the background so the first hit-test is fast (searches retry on failure)."""
    await asyncio.to_thread(app[kb_key].index)


async def _purge_replay_claims(_app: web.Application) -> None:
    purged = await asyncio.to_thread(replay.purge)
    if purged:
        log.info("removed %d expired channel replay guards", purged)


# ``app.cleanup_ctx`` entry: the messaging channels' replay guards (griddesk.replay) are deleted once expired
replay_purge = periodic("replay guard purge", _purge_replay_claims, lambda _app: REPLAY_PURGE_SECONDS)


def create_app(
    settings: Settings | None = None,
    knowledge_base: KnowledgeBase | None = None,
    warm_index: bool = True,
    watch_overdue: bool = True,
    sweep_queues: bool = True,
    follow_up_unanswered: bool = True,
    ticket_news: bool = True,
) -> web.Application:
    settings = settings or get_settings()
    app = web.Application(middlewares=[security_headers, json_errors], client_max_size=MAX_BODY_BYTES)
    app[settings_key] = settings
    app.on_response_prepare.append(name_the_server)
    app[kb_key] = knowledge_base or KnowledgeBase(settings)
    app[hub_key] = make_hub(settings.redis_url)
    app[inbox_key] = Inbox(app)
    app[relay_key] = Relay()
    app.cleanup_ctx.append(hub_running)  # first: every other background task may publish
    recovery.install(app, periodic_pass=follow_up_unanswered)
    app.cleanup_ctx.append(_clients)
    app.cleanup_ctx.append(relay_task)
    app.cleanup_ctx.append(accounts_web.session_purge)
    app.cleanup_ctx.append(accounts_web.session_news)
    app.cleanup_ctx.append(counter_purge)
    app.cleanup_ctx.append(replay_purge)
    if warm_index:
        app.cleanup_ctx.append(background("knowledge base warm-up", _warm))
    if watch_overdue:
        app.cleanup_ctx.append(tickets_web.overdue_watch)
    if sweep_queues:
        app.cleanup_ctx.append(queue_watch)
    if ticket_news:
        app.cleanup_ctx.append(tickets_web.ticket_news)
    # the feature whose prefix is longer mounts first, so /static/<feature>/ wins over the chat's /static/
    add_kit(app)
    accounts_web.add_routes(app)
    handoff_web.add_routes(app)
    knowledge_base_web.add_routes(app)
    tickets_web.add_routes(app)
    reports_web.add_routes(app)
    # the gateway's own: customer channels, chat page and widget, health, the API description
    app.router.add_get("/", chat_page)
    app.router.add_static("/static/", STATIC, show_index=False)
    health.add_routes(app)
    app.router.add_get("/api/v1/openapi.json", openapi)
    labels.add_routes(app)
    rest.add_routes(app)
    rest_live.add_routes(app)
    telegram.setup(app)  # messaging channels mount themselves when configured (docs/channels.md)
    wecom.setup(app)
    socketio.setup(app)  # always on, like the REST channel
    return app
