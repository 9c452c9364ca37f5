"""The tickets feature's HTTP surface: the tickets API for staff and integrations (``api``), the staff's
tickets workspace (``workspace``: its API and the pages ``/console/tickets`` and ``/console/tickets/<number>``)
and the background work (``background``: the overdue watch, the live ticket news). ``add_routes`` mounts it.

The two pages share one skeleton, ``static/tickets-page.html`` (head, top bar, toast, the shared scripts);
each page is its ``<main>`` fragment ``static/<page>.main.html`` and its script ``static/<page>.js``,
composed once when the app is built.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from griddesk.web.pages import add_static, compose, composed_page
from tickets.web import api, workspace
from tickets.web.background import overdue_watch, ticket_news

__all__ = ["add_routes", "overdue_watch", "ticket_news"]

STATIC = Path(__file__).resolve().parent / "static"
SKELETON = STATIC / "tickets-page.html"
LIST_URL = "/console/tickets"
PAGES = {  # URL → (title, page name: <name>.main.html + <name>.js)
    LIST_URL: ("工单工作台", "tickets"),
    LIST_URL + "/{number}": ("工单详情", "ticket"),
}


def compose_page(url: str) -> str:
    title, name = PAGES[url]
    return compose(
        SKELETON,
        title=title,
        main=STATIC / f"{name}.main.html",
        scripts=[f"/static/tickets/{name}.js"],
        current=LIST_URL,
    )


def add_routes(app: web.Application) -> None:
    api.add_routes(app)
    workspace.add_routes(app)
    for url in PAGES:
        app.router.add_get(url, composed_page(compose_page(url)))
    add_static(app, "tickets", STATIC)
