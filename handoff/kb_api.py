"""``GET /api/v1/kb/search``: the knowledge base's hit-test, for admins and integrations.

Protected by the API token (``Authorization: Bearer $GRIDDESK_API_TOKEN``) until the admin login
exists (handoff issue).
"""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web

from handoff.errors import ApiError
from handoff.http import json_response
from handoff.typedefs import kb_key, settings_key
from knowledge_base.search import MAX_K, QueryError


def require_api_token(request: web.Request) -> None:
    expected = request.app[settings_key].api_token
    if not expected:
        raise ApiError(403, "api_disabled", "未配置 GRIDDESK_API_TOKEN, 管理接口已停用")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.reveal().encode()):
        raise ApiError(401, "unauthorized", "需要有效的 API 令牌 (Authorization: Bearer …)")


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
