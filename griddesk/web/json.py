"""Small HTTP helpers shared by the gateway's views."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from griddesk.web.errors import ApiError


def dumps(obj: object) -> str:
    """JSON with Chinese kept readable (no \\u escapes)."""
    return json.dumps(obj, ensure_ascii=False)


def json_response(obj: object, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(obj, status=status, headers=headers, dumps=dumps)


async def read_json_object(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object (empty body = ``{}``); ApiError 400/413 with a clear reason."""
    raw = await request.read()
    if len(raw) > max_bytes:
        raise ApiError(413, "payload_too_large", "请求内容过大")
    if not raw:
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "invalid_json", "请求内容不是有效的 UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "请求内容必须是 JSON 对象")
    return body
