"""Small HTTP helpers shared by the gateway's views."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web


def dumps(obj: object) -> str:
    """JSON with Chinese kept readable (no \\u escapes)."""
    return json.dumps(obj, ensure_ascii=False)


def json_response(obj: object, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(obj, status=status, headers=headers, dumps=dumps)
