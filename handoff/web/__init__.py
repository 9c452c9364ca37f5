"""Human handoff's HTTP surface: the agent console API and websocket, and the console pages (agents,
grid managers). ``add_routes`` mounts all of it."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from griddesk.web.pages import add_pages, add_static
from handoff.web import console_api, console_customers, console_tools, console_ws, manager_api

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {"/console/": STATIC / "console.html", "/console/manager": STATIC / "manager.html"}


async def console_root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


def add_routes(app: web.Application) -> None:
    console_api.add_routes(app)
    console_tools.add_routes(app)
    console_customers.add_routes(app)
    manager_api.add_routes(app)
    console_ws.add_routes(app)
    app.router.add_get("/console", console_root)
    add_pages(app, PAGES)
    add_static(app, "handoff", STATIC)
