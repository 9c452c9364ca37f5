"""Serving the product's static pages and assets: every feature mounts its own with these helpers.

Pages get a strict Content-Security-Policy (scripts only from this origin, no inline script) and are
never cached; each feature serves its assets under ``/static/<feature>/``. The shared front-end kit
(``common.js``: login-aware fetch with the CSRF token; ``console.css``; ``format.js``: the answers'
safe formatting) is served from this package's ``static/`` under ``/static/kit/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

KIT_STATIC = Path(__file__).resolve().parent / "static"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page(path: Path, csp: str = PAGE_CSP) -> Handler:
    """A handler serving one HTML page with the page CSP, never cached."""

    async def handler(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp})

    return handler


def add_pages(app: web.Application, pages: dict[str, Path]) -> None:
    for url, path in pages.items():
        app.router.add_get(url, page(path))


def add_static(app: web.Application, prefix: str, directory: Path) -> None:
    """Serve ``directory`` under ``/static/<prefix>/`` (no directory listings)."""
    app.router.add_static(f"/static/{prefix}/", directory, show_index=False)


def add_kit(app: web.Application) -> None:
    add_static(app, "kit", KIT_STATIC)
