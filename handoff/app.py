"""The gateway application: ``create_app()`` wires settings, clients and routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from griddesk.db import session_scope, utcnow
from griddesk.settings import Settings, get_settings
from handoff import kb_api, rest_channel, tickets_api
from handoff.errors import json_errors
from handoff.http import json_response
from handoff.openapi import OPENAPI
from handoff.rasa_client import RasaClient
from handoff.typedefs import kb_key, rasa_key, settings_key
from knowledge_base.search import KnowledgeBase
from tickets.watch import WatchReport, check_overdue

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
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
        response.headers.setdefault(name, value)
    return response


async def chat_page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP}
    )


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
               warm_index: bool = True, watch_overdue: bool = True) -> web.Application:
    settings = settings or get_settings()
    app = web.Application(middlewares=[security_headers, json_errors], client_max_size=MAX_BODY_BYTES)
    app[settings_key] = settings
    app[kb_key] = knowledge_base or KnowledgeBase(settings)
    app.cleanup_ctx.append(_clients)
    if warm_index:
        app.cleanup_ctx.append(_warm_index)
    if watch_overdue:
        app.cleanup_ctx.append(_overdue_watch)
    app.router.add_get("/", chat_page)
    app.router.add_static("/static/", STATIC, show_index=False)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/openapi.json", openapi)
    rest_channel.add_routes(app)
    kb_api.add_routes(app)
    tickets_api.add_routes(app)
    return app
