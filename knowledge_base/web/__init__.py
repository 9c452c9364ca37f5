"""The knowledge base's HTTP surface: the search API, the admin API (FAQs, import/export, inbox, usage)
and the admin console pages. ``add_routes`` mounts all of it."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from griddesk.web.pages import add_pages, add_static
from knowledge_base.web import admin_api, search_api

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {
    "/console/kb": STATIC / "kb.html",
    "/console/kb/import": STATIC / "kb-import.html",
    "/console/kb/hit-test": STATIC / "kb-hit-test.html",
    "/console/kb/inbox": STATIC / "kb-inbox.html",
    "/console/kb/usage": STATIC / "kb-usage.html",
}


def add_routes(app: web.Application) -> None:
    search_api.add_routes(app)
    admin_api.add_routes(app)
    add_pages(app, PAGES)
    add_static(app, "kb", STATIC)
