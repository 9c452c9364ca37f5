"""The gateway application: ``create_app()`` wires settings, clients and routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from accounts import web as accounts_web
from griddesk.db import session_scope, utcnow
from griddesk.settings import Settings, get_settings
from handoff import (
    console_api,
    console_ws,
    customer_live,
    kb_admin_api,
    kb_api,
    rest_channel,
    tickets_api,
)
from handoff.channels import socketio_channel, telegram, wecom
from handoff.channels.relay import Relay, relay_key, relay_task
from handoff.errors import json_errors
from handoff.http import json_response
from handoff.hub import Hub
from handoff.inbox import Inbox
from handoff.openapi import OPENAPI
from handoff.queue_watch import queue_watch
from handoff.rasa_client import RasaClient
from handoff.typedefs import hub_key, inbox_key, kb_key, rasa_key, settings_key
from knowledge_base.search import KnowledgeBase
from tickets.watch import WatchReport, check_overdue

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
CONSOLE_PAGES = {
    "/console/login": "login.html", "/console/": "console.html", "/console/manager": "manager.html",
    "/console/kb": "kb.html", "/console/kb/import": "kb-import.html", "/console/kb/hit-test": "kb-hit-test.html",
    "/console/kb/inbox": "kb-inbox.html", "/console/kb/usage": "kb-usage.html",
}
# The chat page may be framed by the sites that embed the widget (GRIDDESK_WIDGET_ORIGINS); nothing else.
FRAMEABLE_PATHS = frozenset({"/"})
MAX_BODY_BYTES = 256 * 1024

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"


@web.middleware
async def security_headers(request: web.Request, handler):  # type: ignore[no-untyped-def]
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        if name == "X-Frame-Options" and request.path in FRAMEABLE_PATHS:
            continue
        response.headers.setdefault(name, value)
    return response


async def chat_page(request: web.Request) -> web.FileResponse:
    ancestors = request.app[settings_key].widget_origins or "'none'"
    csp = PAGE_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp})


async def console_page(request: web.Request) -> web.FileResponse:
    page = CONSOLE_PAGES[request.path]
    return web.FileResponse(STATIC / "console" / page,
                            headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP})


async def console_root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def openapi(_request: web.Request) -> web.Response:
    return json_response(OPENAPI)


async def _clients(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with aiohttp.ClientSession() as session:
        app[rasa_key] = RasaClient(session, settings.rasa_url, settings.rasa_timeout)
        yield


async def _warm_index(app: web.Application) -> AsyncIterator[None]:
    """Build the search index in the background so the first hit-test is fast."""

    async def warm() -> None:
        try:
            await asyncio.to_thread(app[kb_key].index)
        except Exception:
            log.exception("knowledge base index warm-up failed; searches will retry")

    task = asyncio.create_task(warm())
    yield
    task.cancel()


def _overdue_watch_pass() -> WatchReport:
    with session_scope() as session:
        return check_overdue(session, utcnow())


async def _overdue_watch(app: web.Application) -> AsyncIterator[None]:
    """Every GRIDDESK_WATCH_SECONDS, mark tickets past their step deadline and alert grid managers."""

    async def loop() -> None:
        while True:
            try:
                report = await asyncio.to_thread(_overdue_watch_pass)
                if report.marked_overdue or report.alerts:
                    log.info("overdue watch: %d marked overdue, %d alerts", report.marked_overdue, report.alerts)
            except Exception:
                log.exception("overdue watch pass failed; retrying next interval")
            await asyncio.sleep(app[settings_key].watch_seconds)

    task = asyncio.create_task(loop())
    yield
    task.cancel()


def create_app(settings: Settings | None = None, knowledge_base: KnowledgeBase | None = None,
               warm_index: bool = True, watch_overdue: bool = True, sweep_queues: bool = True) -> web.Application:
    settings = settings or get_settings()
    app = web.Application(middlewares=[security_headers, json_errors], client_max_size=MAX_BODY_BYTES)
    app[settings_key] = settings
    app[kb_key] = knowledge_base or KnowledgeBase(settings)
    app[hub_key] = Hub()
    app[inbox_key] = Inbox(app)
    app[relay_key] = Relay()
    app.cleanup_ctx.append(_clients)
    app.cleanup_ctx.append(relay_task)
    if warm_index:
        app.cleanup_ctx.append(_warm_index)
    if watch_overdue:
        app.cleanup_ctx.append(_overdue_watch)
    if sweep_queues:
        app.cleanup_ctx.append(queue_watch)
    app.router.add_get("/", chat_page)
    app.router.add_get("/console", console_root)
    for path in CONSOLE_PAGES:
        app.router.add_get(path, console_page)
    app.router.add_static("/static/", STATIC, show_index=False)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi)
    rest_channel.add_routes(app)
    customer_live.add_routes(app)
    accounts_web.add_routes(app)
    console_api.add_routes(app)
    console_ws.add_routes(app)
    kb_api.add_routes(app)
    kb_admin_api.add_routes(app)
    telegram.setup(app)  # messaging channels mount themselves when configured (docs/channels.md)
    wecom.setup(app)
    socketio_channel.setup(app)  # always on, like the REST channel
    tickets_api.add_routes(app)
    return app
