"""Searching the knowledge base over HTTP: one search and one hit shape for every route that searches.

``GET /api/v1/kb/search`` (integrations, API token) is here; the agent console's search
(``handoff.web.console_tools``) and the admins' hit-test (``knowledge_base.web.inbox``) use
:func:`search` and :func:`hits_json` too, so all three answer alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from griddesk.web.auth import require_api_token
from griddesk.web.json import json_response
from griddesk.web.params import query_int, query_text
from knowledge_base.index import SearchResult, Thresholds
from knowledge_base.search import MAX_K
from knowledge_base.web.keys import kb_key

DEFAULT_K = 3
MAX_GRID_CHARS = 64


async def search(request: web.Request, query: str, k: int, grid: str | None) -> SearchResult:
    """The knowledge base's answer for ``query`` as customers of ``grid`` get it (``QueryError`` if unusable)."""
    return await asyncio.to_thread(request.app[kb_key].search, query, k, grid)


def hits_json(result: SearchResult, thresholds: Thresholds) -> list[dict[str, Any]]:
    """Every hit with its scores and its band (what the bot would do with it: ``Thresholds.band``)."""
    return [
        {**hit.as_dict(), "faq_id": hit.faq.id, "band": str(thresholds.band(rank, hit.score, result.decision))}
        for rank, hit in enumerate(result.hits)
    ]


async def search_hits(request: web.Request, query: str, k: int, grid: str | None) -> list[dict[str, Any]]:
    result = await search(request, query, k, grid)
    return hits_json(result, request.app[kb_key].thresholds)


def k_of(request: web.Request, default: int) -> int:
    return query_int(request, "k", "返回条数（k）", default=default, low=1, high=MAX_K)


def grid_of(request: web.Request) -> str | None:
    return query_text(request, "grid", "网格（grid）", max_chars=MAX_GRID_CHARS)


async def get_search(request: web.Request) -> web.Response:
    require_api_token(request)
    k, grid = k_of(request, DEFAULT_K), grid_of(request)
    result = await search(request, request.query.get("q", ""), k, grid)
    return json_response({"decision": str(result.decision), "hits": hits_json(result, request.app[kb_key].thresholds)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/kb/search", get_search)
