"""``GET /api/v1/kb/search``: the knowledge base's hit-test, for admins and integrations.

Protected by the API token (``Authorization: Bearer $GRIDDESK_API_TOKEN``, see ``griddesk.web.auth``) until
the admin login exists.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from griddesk.web.auth import require_api_token
from griddesk.web.errors import ApiError
from griddesk.web.json import json_response
from knowledge_base.web.keys import kb_key
from knowledge_base.search import MAX_K, QueryError


async def search(request: web.Request) -> web.Response:
    require_api_token(request)
    query = request.query.get("q", "")
    raw_k = request.query.get("k", "3")
    try:
        k = int(raw_k)
    except ValueError:
        raise ApiError(400, "invalid_k", f"k 必须是 1 到 {MAX_K} 之间的整数") from None
    grid = request.query.get("grid") or None
    try:
        result = await asyncio.to_thread(request.app[kb_key].search, query, k, grid)
    except QueryError as exc:
        raise ApiError(400, "invalid_query", f"查询无效: {exc}") from None
    return json_response({"decision": str(result.decision), "hits": [hit.as_dict() for hit in result.hits]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/kb/search", search)
