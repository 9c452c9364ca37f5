"""The integration API token: ``Authorization: Bearer $GRIDDESK_API_TOKEN``.

Integrations (the tickets API, the knowledge-base search API) use it; people use their console login
(``accounts.web``). Without a configured token the integration routes are disabled (403), never open.
The token has a name (``GRIDDESK_API_TOKEN_NAME``, default ``integration``): what it does is recorded
under that name (``accounts.actors.actor_for_integration``), never under a name a body gives.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from griddesk.web.errors import ApiError
from griddesk.web.keys import settings_key


def require_api_token(request: web.Request) -> str:
    """The token's name when the request carries the configured API token; ``ApiError`` (401 or 403) otherwise."""
    settings = request.app[settings_key]
    expected = settings.api_token
    if not expected:
        raise ApiError(403, "api_disabled", "未配置 GRIDDESK_API_TOKEN，集成接口已停用。")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.reveal().encode()):
        raise ApiError(401, "unauthorized", "需要有效的 API 令牌（Authorization: Bearer …）。")
    return settings.api_token_name
