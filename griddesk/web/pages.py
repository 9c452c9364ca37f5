"""Serving the product's static pages and assets: every feature mounts its own with these helpers.

Pages get a strict Content-Security-Policy (scripts only from this origin, no inline script) and are
never cached; each feature serves its assets under ``/static/<feature>/``. The shared front-end kit
(``common.js``: login-aware fetch with the CSRF token; ``console.css``; ``format.js``: the answers'
safe formatting) is served from this package's ``static/`` under ``/static/kit/``, its ``favicon.svg`` also as
``/favicon.ico``.

Pages that share their head and top bar are composed once at start-up (``compose``) from a skeleton
with the placeholders ``{{title}}``, ``{{main}}`` and ``{{scripts}}``, and served from memory
(``composed_page``) with the same headers as ``page``.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

KIT_STATIC = Path(__file__).resolve().parent / "static"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PLACEHOLDER = re.compile(r"\{\{(title|main|scripts)\}\}")


def page(path: Path, csp: str = PAGE_CSP) -> Handler:
    """A handler serving one HTML page with the page CSP, never cached."""

    async def handler(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp})

    return handler


def compose(skeleton: Path, *, title: str, main: Path, scripts: list[str], current: str | None = None) -> str:
    """One page from ``skeleton``: ``{{title}}`` becomes the escaped title, ``{{main}}`` the fragment in
    ``main`` (as is, trailing newline dropped) and ``{{scripts}}`` one ``<script src>`` tag per entry, in order,
    each on its own line at the placeholder's indentation. ``current``: the skeleton's link ``<a href="…">``
    to that URL (the page's own, in the navigation) gets ``aria-current="page"``. Every placeholder must
    appear exactly once; a bad skeleton or an unknown ``current`` fails at start-up with ValueError."""
    text = skeleton.read_text(encoding="utf-8")
    found = sorted(match.group(1) for match in PLACEHOLDER.finditer(text))
    if found != ["main", "scripts", "title"]:
        raise ValueError(f"{skeleton}: needs the placeholders title, main and scripts once each, has {found}")
    if current is not None:
        link = f'<a href="{html.escape(current)}">'
        if link not in text:
            raise ValueError(f"{skeleton}: no link {link}")
        text = text.replace(link, f'{link[:-1]} aria-current="page">')
    fragment = main.read_text(encoding="utf-8").rstrip("\n")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "title":
            return html.escape(title)
        if name == "main":
            return fragment
        before = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
        indent = before if before.isspace() else ""
        return f"\n{indent}".join(f'<script src="{html.escape(src)}"></script>' for src in scripts)

    # one pass: a placeholder-like text inside the fragment or the title is left alone
    return PLACEHOLDER.sub(fill, text)


def composed_page(body: str, csp: str = PAGE_CSP) -> Handler:
    """A handler serving a page composed in memory, with the headers of ``page`` (and an ETag, so a
    browser's revalidation gets a 304 as it does for a file)."""
    etag = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": csp}

    async def handler(request: web.Request) -> web.Response:
        if any(candidate.value == etag for candidate in request.if_none_match or ()):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(text=body, content_type="text/html", charset="utf-8", headers=headers)
        response.etag = etag
        return response

    return handler


def add_pages(app: web.Application, pages: dict[str, Path]) -> None:
    for url, path in pages.items():
        app.router.add_get(url, page(path))


def add_static(app: web.Application, prefix: str, directory: Path) -> None:
    """Serve ``directory`` under ``/static/<prefix>/`` (no directory listings)."""
    app.router.add_static(f"/static/{prefix}/", directory, show_index=False)


async def favicon(_request: web.Request) -> web.FileResponse:
    """The icon browsers ask every page's origin for (a 404 would be an error in each page's console)."""
    return web.FileResponse(
        KIT_STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"}
    )


def add_kit(app: web.Application) -> None:
    add_static(app, "kit", KIT_STATIC)
    app.router.add_get("/favicon.ico", favicon)
