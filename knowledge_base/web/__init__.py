"""The knowledge base's HTTP surface: the search API, the admin API (FAQs, import/export, inbox, usage)
and the admin console pages. ``add_routes`` mounts all of it.

The five pages share one skeleton, ``static/kb-page.html`` (head, top bar with the navigation, confirm
dialog, toast, the shared scripts); each page is its ``<main>`` fragment ``static/<page>.main.html``
(with any dialogs of its own) and its script ``static/<page>.js``, composed once when the app is built."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from griddesk.web.pages import add_static, compose, composed_page
from knowledge_base.web import admin_api, search_api

STATIC = Path(__file__).resolve().parent / "static"
SKELETON = STATIC / "kb-page.html"
PAGES = {  # URL → (title, also its link's text in the navigation; page name: <name>.main.html + <name>.js)
    "/console/kb": ("问答管理", "kb"),
    "/console/kb/import": ("导入导出", "kb-import"),
    "/console/kb/hit-test": ("命中测试", "kb-hit-test"),
    "/console/kb/inbox": ("未解决问题", "kb-inbox"),
    "/console/kb/usage": ("使用统计", "kb-usage"),
}


def compose_page(url: str) -> str:
    title, name = PAGES[url]
    return compose(
        SKELETON, title=title, main=STATIC / f"{name}.main.html", scripts=[f"/static/kb/{name}.js"], current=url
    )


def add_routes(app: web.Application) -> None:
    search_api.add_routes(app)
    admin_api.add_routes(app)
    for url in PAGES:
        app.router.add_get(url, composed_page(compose_page(url)))
    add_static(app, "kb", STATIC)
